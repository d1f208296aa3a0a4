// On real rustc output: a small crate compiled to an object file and to an executable.
use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const V1: &str = r#"
macro_rules! stats { ($($f:ident),*) => { pub struct Stats { $(pub $f: u64),* } } }
stats!(ticks, bytes);
pub const N: usize = 3;
pub struct Held { pub vals: [u64; N] }
pub struct Ring<T> { pub buf: Vec<T>, pub head: usize }
pub enum Mode { Idle, Run(u32), Stop { code: i64 } }
#[derive(Clone, Copy)] pub enum Color { Red = 1, Blue = 7 }
pub struct Tup(pub u8, pub u32);
fn main() {
    let s = Stats { ticks: 1, bytes: 2 };
    let h = Held { vals: [0; N] };
    let r: Ring<u32> = Ring { buf: vec![], head: 0 };
    let m = Mode::Run(3);
    let o: Option<Stats> = None;
    let t = Tup(1, 2);
    let c = || s.ticks + h.vals[0];
    let k = Color::Blue;
    println!("{} {} {} {} {}", c(), r.head, matches!(m, Mode::Idle), o.is_none() as u8 + t.0, k as u8);
}
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sd-layouts-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `src` as crate `probe`; returns (object, executable).
fn compile(dir: &Path, src: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    std::fs::write(dir.join("main.rs"), src).unwrap();
    let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .current_dir(dir)
        .args(["--edition", "2021", "--crate-name", "probe", "--emit=obj,link", "-Ccodegen-units=1", "-o", "probe", "main.rs", "-Awarnings"])
        .args(extra)
        .status()
        .expect("rustc runs");
    assert!(status.success());
    (dir.join("probe.o"), dir.join("probe"))
}

fn crates() -> Vec<String> {
    vec!["probe".into()]
}

fn find<'a>(r: &'a Report, name: &str) -> &'a Layout {
    r.types.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{} not among {:?}", name, r.types.iter().map(|t| &t.name).collect::<Vec<_>>()))
}

fn fields(l: &Layout) -> Vec<(String, u64, String)> {
    l.fields.iter().map(|f| (f.name.clone(), f.offset, f.ty.clone())).collect()
}

fn check_v1(r: &Report) {
    let stats = find(r, "probe::Stats");
    assert_eq!((stats.size, stats.align), (Some(16), Some(8)));
    assert_eq!(fields(stats), vec![("ticks".into(), 0, "u64".into()), ("bytes".into(), 8, "u64".into())]);
    assert_eq!(fields(find(r, "probe::Held")), vec![("vals".into(), 0, "[u64; 3]".into())]);
    let ring = find(r, "probe::Ring<u32>");
    assert_eq!(ring.size, Some(32));
    assert_eq!(ring.fields[0].ty, "alloc::vec::Vec<u32, alloc::alloc::Global>");
    let mode = find(r, "probe::Mode");
    assert_eq!(mode.kind, "enum");
    let v: Vec<(String, String)> = mode.variants.iter().map(|v| (v.discr.clone(), v.name.clone())).collect();
    assert_eq!(v, vec![("0".into(), "Idle".into()), ("1".into(), "Run".into()), ("2".into(), "Stop".into())]);
    assert_eq!(mode.discr.as_ref().map(|d| (d.offset, d.ty.as_str())), Some((0, "u32")));
    assert_eq!(fields(find(r, "probe::Mode::Run")), vec![("__0".into(), 4, "u32".into())]);
    let color = find(r, "probe::Color");
    assert_eq!(color.kind, "c-enum");
    assert_eq!(color.variants.iter().map(|v| (v.discr.as_str(), v.name.as_str())).collect::<Vec<_>>(), vec![("1", "Red"), ("7", "Blue")]);
    let tup = find(r, "probe::Tup");
    assert!(tup.fields.iter().any(|f| f.name == "__0" && f.ty == "u8"));
    let opt = find(r, "core::option::Option<probe::Stats>");
    assert_eq!(opt.kind, "enum");
    assert!(r.types.iter().all(|t| !t.name.contains('{')), "closure environments are left out");
    assert!(r.types.iter().all(|t| mentions_crate(&t.name, &crates())), "only workspace types");
    let names: BTreeSet<&str> = r.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), r.types.len(), "one layout per name (deduplicated)");
}

#[test]
fn object_file_with_relocations_and_executable_agree() {
    let dir = scratch("v1");
    let (obj, exe) = compile(&dir, V1, &["-g"]);
    let o = layouts_of_elf(&std::fs::read(&obj).unwrap(), &crates(), &[]).unwrap();
    check_v1(&o);
    let e = layouts_of_elf(&std::fs::read(&exe).unwrap(), &crates(), &[]).unwrap();
    check_v1(&e);
    for t in &o.types {
        if let Some(x) = e.types.iter().find(|x| x.name == t.name) {
            assert_eq!(x, t, "the object and the executable describe {} alike", t.name);
        }
    }
    assert!(e.skipped > 0, "the executable's units of other crates are skipped");
    // units compiled outside the workspace's directories are skipped too
    let elsewhere = layouts_of_elf(&std::fs::read(&exe).unwrap(), &crates(), &["/nonexistent".to_string()]).unwrap();
    assert!(elsewhere.types.is_empty() && elsewhere.units == 0);
    let here = layouts_of_elf(&std::fs::read(&exe).unwrap(), &crates(), &[dir.to_string_lossy().into_owned()]).unwrap();
    check_v1(&here);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn dwarf5_reads_alike() {
    let dir = scratch("dwarf5");
    let (obj, exe) = compile(&dir, V1, &["-g", "-Cdwarf-version=5"]);
    let o = layouts_of_elf(&std::fs::read(&obj).unwrap(), &crates(), &[]).unwrap();
    check_v1(&o);
    let e = layouts_of_elf(&std::fs::read(&exe).unwrap(), &crates(), &[]).unwrap();
    check_v1(&e);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_changed_layout_reads_differently() {
    let dir = scratch("v2");
    let v2 = V1.replace("stats!(ticks, bytes);", "stats!(ticks, bytes, errors);").replace("pub const N: usize = 3;", "pub const N: usize = 9;")
        .replace("Stats { ticks: 1, bytes: 2 }", "Stats { ticks: 1, bytes: 2, errors: 0 }");
    let (obj, _) = compile(&dir, &v2, &["-g"]);
    let o = layouts_of_elf(&std::fs::read(&obj).unwrap(), &crates(), &[]).unwrap();
    let stats = find(&o, "probe::Stats");
    assert_eq!(stats.size, Some(24));
    assert_eq!(stats.fields[2].name, "errors");
    assert_eq!(stats.fields[2].offset, 16);
    assert_eq!(fields(find(&o, "probe::Held")), vec![("vals".into(), 0, "[u64; 9]".into())]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn limited_debuginfo_has_no_types() {
    let dir = scratch("limited");
    let (obj, _) = compile(&dir, V1, &["-Cdebuginfo=1"]);
    let o = layouts_of_elf(&std::fs::read(&obj).unwrap(), &crates(), &[]).unwrap();
    assert_eq!(o.typed_units, 0);
    assert!(o.types.is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sections_alone_read_like_the_file() {
    let dir = scratch("sections");
    let (_, exe) = compile(&dir, V1, &["-g"]);
    let bytes = std::fs::read(&exe).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let mut payload = Vec::new();
    for s in file.sections() {
        let name = s.name().unwrap();
        if !name.starts_with(".debug_") {
            continue;
        }
        let data = s.data().unwrap();
        payload.extend((name.len() as u32).to_le_bytes());
        payload.extend(name.as_bytes());
        payload.extend((data.len() as u32).to_le_bytes());
        payload.extend(data);
    }
    let r = layouts_of_sections(&payload, true, &crates(), &[]).unwrap();
    check_v1(&r);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn crate_names_match_as_path_roots_only() {
    let c = vec!["counter".to_string()];
    assert!(mentions_crate("counter::State", &c));
    assert!(mentions_crate("core::option::Option<counter::State>", &c));
    assert!(!mentions_crate("counter_core::State", &c));
    assert!(!mentions_crate("mycounter::State", &c));
    assert_eq!(unit_crate("src/main.rs/@/counter.1a2b3c-cgu.0"), Some("counter"));
    assert_eq!(unit_crate("weird"), None);
}

#[test]
fn split_debuginfo_is_seen_not_guessed() {
    let dir = scratch("split");
    let (_, exe) = compile(&dir, V1, &["-g", "-Csplit-debuginfo=unpacked"]);
    let e = layouts_of_elf(&std::fs::read(&exe).unwrap(), &crates(), &[]).unwrap();
    assert!(e.split, "skeleton units");
    assert!(e.types.is_empty());
    assert_eq!(e.typed_units, 0);
    std::fs::remove_dir_all(dir).ok();
}
