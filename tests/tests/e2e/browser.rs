//! The browser harness itself: Debian's Chromium, headless, driven over WebDriver, renders a page served
//! on loopback and runs its script; the console's tests build on this.

use anyhow::ensure;
use riskgate_tests::browser::{Browser, Width};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PAGE: &str = "<!doctype html><html><body><h1 id=\"title\">riskgate</h1>\
<p id=\"script\">static</p><script>document.getElementById('script').textContent = 'ran';</script>\
</body></html>";

/// Serves `PAGE` to every connection on 127.0.0.1; returns its URL.
async fn serve_page() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{PAGE}",
                    PAGE.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(url)
}

#[tokio::test(flavor = "multi_thread")]
async fn headless_chromium_renders_a_page_and_runs_its_script() -> anyhow::Result<()> {
    let url = serve_page().await?;
    let browser = Browser::start(Width::Phone).await?;
    browser.open(&url).await?;
    ensure!(
        browser.text("#title").await? == "riskgate",
        "the DOM's text"
    );
    ensure!(
        browser.text("#script").await? == "ran",
        "the page's script ran"
    );
    let shot = browser.screenshot("harness-phone").await?;
    ensure!(
        std::fs::metadata(&shot)?.len() > 0,
        "a screenshot at {}",
        shot.display()
    );
    browser.close().await
}
