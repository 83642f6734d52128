
lookout-prod8{"v":1,"last_id":"0190ec04-a5f0-731e-bb68-a9b89d37669f"}"ù
33184684-000114"sm-a346b*user@co