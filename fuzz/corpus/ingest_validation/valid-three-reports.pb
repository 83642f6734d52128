
lookout-prod8{"v":1,"last_id":"0190ec04-a5f0-731e-bb68-a9b89d37669f"}"
33184684-000114"sm-a346b*user@corp.com2sales8BI

a8da3393-1RISKWARE (2€รปยB#APPLICATION RISKWARE: com.doa.startJไรปยRevt-33184684-0001"แ
	ipad-000214"sm-a346b*user@corp.com2sales8BL
t-lowRISKWARE (2€รปย:ฒรปยB#APPLICATION RISKWARE: com.doa.startBG
t-mediumRISKWARE (2€รปยB#APPLICATION RISKWARE: com.doa.startJไรปยRevt-ipad-0002"A
mac-000314"sm-a346b*user@corp.com8	JไรปยRevt-mac-0003