//! Which instance a function symbol is, from rustc's DWARF: the `DW_AT_name` of the subprogram
//! whose `DW_AT_linkage_name` is the symbol, with its parameters' and result's type names. rustc
//! writes an instance's generic arguments there (`restore_erased<app::State>`,
//! `call<app::State, (), app::main::{closure_env#0}>`) and numbers closures (`{closure#1}`), all
//! of which legacy symbol names (`_ZN…17h<hash>E`) leave out of the path and put only into the
//! hash; the signature tells a function whose parameters changed from one whose didn't. State migration (server/src/migration/renamed-instances.ts)
//! uses it to tell which renamed legacy function of the patch replaces which of the executable.
//!
//! Input: `[u32 header len][header][payload]`; header lines: `elf`, then the wanted symbol names.
//! Output: lines `<symbol>\t<DW_AT_name>` for the wanted symbols found (each once: the first
//! subprogram seen), or `error\t<message>`.

use crate::abi;
use crate::layouts::{elf_sections, load_dwarf, R};
use gimli::{AttributeValue, Reader};
use std::collections::{HashMap, HashSet};

fn text(dwarf: &gimli::Dwarf<R<'_>>, unit: &gimli::Unit<R<'_>>, v: AttributeValue<R<'_>>) -> Option<String> {
    let s = dwarf.attr_string(unit, v).ok()?;
    s.to_string_lossy().ok().map(|c| c.into_owned())
}

/// The name of the type a `DW_AT_type` refers to, as rustc wrote it: references and pointers
/// carry full paths (`&mut app::State`), a struct by value its own name (`State`); `?` when unknown.
fn type_name(dwarf: &gimli::Dwarf<R<'_>>, unit: &gimli::Unit<R<'_>>, v: AttributeValue<R<'_>>) -> String {
    let AttributeValue::UnitRef(o) = v else { return "?".into() };
    unit.entry(o).ok().and_then(|t| t.attr_value(gimli::DW_AT_name)).and_then(|n| text(dwarf, unit, n)).unwrap_or_else(|| "?".into())
}

/// The types of a subprogram's formal parameters, in order.
fn parameter_types(dwarf: &gimli::Dwarf<R<'_>>, unit: &gimli::Unit<R<'_>>, at: gimli::UnitOffset) -> gimli::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut tree = unit.entries_tree(Some(at))?;
    let root = tree.root()?;
    let mut children = root.children();
    while let Some(child) = children.next()? {
        let c = child.entry();
        if c.tag() == gimli::DW_TAG_formal_parameter {
            out.push(c.attr_value(gimli::DW_AT_type).map_or_else(|| "?".into(), |t| type_name(dwarf, unit, t)));
        }
    }
    Ok(out)
}

/// The `DW_AT_name` of each of `wanted`'s subprograms in the ELF file `bytes`, with the type names
/// of its parameters and result: `tick(&mut app::State, &mut u64)`, `restore_erased<app::State>(&[u8]) -> Result<…>`.
pub fn instance_names(bytes: &[u8], wanted: &HashSet<&str>) -> Result<HashMap<String, String>, String> {
    let (sections, endian, _) = elf_sections(bytes)?;
    let dwarf = load_dwarf(&sections, endian)?;
    let mut out = HashMap::new();
    let mut read = || -> gimli::Result<()> {
        let mut headers = dwarf.units();
        while let Some(header) = headers.next()? {
            let unit = dwarf.unit(header)?;
            let mut entries = unit.entries();
            while let Some(e) = entries.next_dfs()? {
                if e.tag() != gimli::DW_TAG_subprogram {
                    continue;
                }
                let linkage = match e.attr_value(gimli::DW_AT_linkage_name) {
                    Some(v) => v,
                    None => continue,
                };
                let Some(linkage) = text(&dwarf, &unit, linkage) else { continue };
                if !wanted.contains(linkage.as_str()) || out.contains_key(&linkage) {
                    continue;
                }
                if let Some(name) = e.attr_value(gimli::DW_AT_name).and_then(|v| text(&dwarf, &unit, v)) {
                    let ret = e.attr_value(gimli::DW_AT_type).map(|t| type_name(&dwarf, &unit, t));
                    let params = parameter_types(&dwarf, &unit, e.offset())?;
                    let mut full = format!("{}({})", name, params.join(", "));
                    if let Some(ret) = ret {
                        full.push_str(" -> ");
                        full.push_str(&ret);
                    }
                    out.insert(linkage, full);
                }
            }
        }
        Ok(())
    };
    read().map_err(|e| format!("cannot read DWARF: {}", e))?;
    Ok(out)
}

fn run(input: &[u8]) -> Result<String, String> {
    if input.len() < 4 {
        return Err("input too short".into());
    }
    let hlen = u32::from_le_bytes(input[..4].try_into().unwrap()) as usize;
    let header = input.get(4..4 + hlen).ok_or("truncated header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not UTF-8")?;
    let mut lines = header.split('\n');
    match lines.next() {
        Some("elf") => {}
        m => return Err(format!("unknown input kind {:?}", m)),
    }
    let wanted: HashSet<&str> = lines.filter(|l| !l.is_empty()).collect();
    let names = instance_names(&input[4 + hlen..], &wanted)?;
    let mut out = String::new();
    for (sym, name) in names {
        out.push_str(&sym);
        out.push('\t');
        out.push_str(&name.replace(['\t', '\n'], " "));
        out.push('\n');
    }
    Ok(out)
}

/// Entry point: the lines above.
#[no_mangle]
pub extern "C" fn sd_instances(ptr: *mut u8, len: usize) -> *mut u8 {
    let input = abi::take_input(ptr, len);
    let out = run(input.bytes()).unwrap_or_else(|e| format!("error\t{}\n", e.replace('\n', " ")));
    drop(input);
    abi::result(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test executable's own DWARF names its generic instances with their arguments.
    #[test]
    fn names_a_generic_instance_of_this_test_binary() {
        #[inline(never)]
        fn probe<T: Default>() -> T {
            T::default()
        }
        let _ = std::hint::black_box(probe::<u16>());
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let (sections, endian, _) = elf_sections(&exe).unwrap();
        let dwarf = load_dwarf(&sections, endian).unwrap();
        // Find the probe's linkage name by its DW_AT_name, then ask for it.
        let mut linkage = None;
        let mut headers = dwarf.units();
        while let Some(h) = headers.next().unwrap() {
            let unit = dwarf.unit(h).unwrap();
            let mut entries = unit.entries();
            while let Some(e) = entries.next_dfs().unwrap() {
                let name = e.attr_value(gimli::DW_AT_name).and_then(|v| text(&dwarf, &unit, v));
                if e.tag() == gimli::DW_TAG_subprogram && name.as_deref() == Some("probe<u16>") {
                    linkage = e.attr_value(gimli::DW_AT_linkage_name).and_then(|v| text(&dwarf, &unit, v));
                }
            }
        }
        let linkage = linkage.expect("rustc names the instance probe<u16> in DWARF");
        let wanted: HashSet<&str> = [linkage.as_str(), "_ZN7nowhere17h0000000000000000E"].into_iter().collect();
        let names = instance_names(&exe, &wanted).unwrap();
        assert_eq!(names.get(&linkage).map(String::as_str), Some("probe<u16>() -> u16"));
        assert_eq!(names.len(), 1);
    }
}
