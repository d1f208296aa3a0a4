use dioxus::prelude::*;

mod probe;

static MAIN_CSS: Asset = asset!("/assets/main.css");

fn main() {
    dioxus::launch(App);
}

#[component]
fn App() -> Element {
    let mut count = use_signal(|| 0);

    rsx! {
        document::Stylesheet { href: MAIN_CSS }
        div { id: "main",
            h1 { id: "title", "Hello from Dioxus" }
            button { id: "increment", onclick: move |_| count += 1, "Add one" }
            Counter { label: "Clicks", count: count() }
            p { id: "greeting", "{greeting(count())}" }
        }
        probe::DomProbe {}
    }
}

/// A child component with props.
#[component]
fn Counter(label: String, count: i32) -> Element {
    rsx! {
        p { id: "count", "{label}: {count}" }
    }
}

fn greeting(count: i32) -> String {
    format!("Greetings after {count} clicks")
}
