//! A library only station-info's build script uses (a build-dependency): its code runs while the
//! app is built, never in the app.

/// The schema version the build script bakes into the app as `STATION_SCHEMA`.
pub fn schema() -> &'static str {
    "schema-v1"
}
