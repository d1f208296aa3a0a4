//! ledger-audit: a second binary of the package (`[[bin]] path = "tools/audit.rs"`). The tests run
//! `ledger`, so an edit here is not part of the running app.

fn main() {
    println!("audit: {} {}", ledger::lib_message(), ledger::pricing::pricing_message());
}
