//! In debug builds only: reads the real window back. Every half second (DOM_PROBE_MS) it asks the webview for
//! the page's text and the title's computed colour (document::eval runs in the page) and prints
//! them as one `DOM pid=<pid> {json}` line on stdout, and it clicks the button like a user would, so the
//! count (a signal) keeps rising through the real event handler. The e2e test parses the lines.
use dioxus::prelude::*;

#[component]
pub fn DomProbe() -> Element {
    use_future(|| async move {
        if !cfg!(debug_assertions) {
            return;
        }
        // A benchmark reads the window more often (DOM_PROBE_MS); half a second is plenty for tests.
        let every = std::env::var("DOM_PROBE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(500u64);
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(every)).await;
            let read = document::eval(
                r#"
                const title = document.getElementById("title");
                const button = document.getElementById("increment");
                const count = document.getElementById("count");
                const report = {
                    text: (document.getElementById("main") || document.body).innerText,
                    title: title ? title.innerText : null,
                    titleColor: title ? getComputedStyle(title).color : null,
                    count: count ? count.innerText : null,
                };
                if (button) button.click();
                return report;
                "#,
            );
            match read.await {
                Ok(report) => println!("DOM pid={} {report}", std::process::id()),
                Err(error) => println!("DOM-ERROR {error}"),
            }
        }
    });
    rsx! {}
}
