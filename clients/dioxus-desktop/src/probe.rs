//! In debug builds only: reads the real window back. Every half second (DOM_PROBE_MS) it asks the webview for
//! the page's text and the title's computed colour (document::eval runs in the page) and prints
//! them as one `DOM pid=<pid> {json}` line on stdout, and it clicks the button like a user would, so the
//! count (a signal) keeps rising through the real event handler. The e2e test parses the lines.
//! For a benchmark the page also keeps, from a MutationObserver, every state the title and the
//! text took with the page's wall-clock time (`Date.now()`) of the change (`changes`, drained by
//! each read), so "when did the window change" does not depend on the read's period or on the
//! path its line takes to the reader.
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
                if (!window.__probeChanges) {
                    window.__probeChanges = [];
                    let last = "";
                    const note = () => {
                        const t = document.getElementById("title");
                        const m = document.getElementById("main") || document.body;
                        const state = { title: t ? t.textContent : null, text: m.textContent };
                        const key = JSON.stringify(state);
                        if (key === last) return;
                        last = key;
                        state.at = Date.now();
                        window.__probeChanges.push(state);
                        if (window.__probeChanges.length > 200) window.__probeChanges.shift();
                    };
                    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
                    note();
                }
                const changes = window.__probeChanges.splice(0);
                const title = document.getElementById("title");
                const button = document.getElementById("increment");
                const count = document.getElementById("count");
                const report = {
                    text: (document.getElementById("main") || document.body).innerText,
                    title: title ? title.innerText : null,
                    titleColor: title ? getComputedStyle(title).color : null,
                    count: count ? count.innerText : null,
                    at: Date.now(),
                    changes,
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
