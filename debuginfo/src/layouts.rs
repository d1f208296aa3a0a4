//! Type layouts from rustc's own DWARF: size, alignment, fields (name, offset, type name), enum
//! variants and discriminants, for every type whose full name mentions a workspace crate.
//! The layout gate (server/src/layout-gate/) compares the patch objects' layouts with the running
//! executable's: where they differ, the patch's code was compiled for values the app does not have.
//!
//! Input (see `parse_input`): a header naming the workspace crates and the payload kind, then
//! either a whole ELF file (a relocatable `.o`: its debug sections' relocations are applied) or
//! only the debug sections of a linked executable (the host copies those, not hundreds of MB of
//! code). Output: JSON `{"types":[…],"units":N,"skipped":N,"typedUnits":N,"split":bool}`.
//!
//! What is left out, and why:
//! - Types whose full name contains `{` (`{closure_env#0}`, `{async_fn_env#0}`, `{impl#0}`,
//!   `{vtable_type}`): their names are positions in the source (the Nth closure of a function),
//!   which ordinary edits renumber, so one name on both sides need not be one type, and the app
//!   never holds them by name. A parent holding one by value still shows its size and its field's
//!   type name; that is where such a change is seen.
//! - Declarations (`DW_AT_declaration`): no layout.
//! - Children of functions (variables, parameters): no types there in rustc's output.
//! - In an executable, compile units of crates that are not workspace crates (the unit's name is
//!   `<path>/@/<crate>.<hash>-cgu.<n>`): a workspace type is described where it is used, and a
//!   generic instance over a workspace type is codegened in a workspace crate (an upstream crate
//!   cannot name it). Units whose crate cannot be read from the name are read.

use crate::abi;
use gimli::{AttributeValue, DwTag, EndianSlice, Reader, RunTimeEndian, SectionId};
use object::{Object, ObjectSection};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

type Slice<'a> = EndianSlice<'a, RunTimeEndian>;
pub(crate) type R<'a> = gimli::RelocateReader<Slice<'a>, Relocs<'a>>;

/// The relocations of one debug section of a `.o` (none in an executable).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Relocs<'a>(Option<&'a object::read::RelocationMap>);

impl<'a> gimli::read::Relocate<usize> for Relocs<'a> {
    fn relocate_address(&self, offset: usize, value: u64) -> gimli::Result<u64> {
        Ok(self.0.map_or(value, |m| m.relocate(offset as u64, value)))
    }
    fn relocate_offset(&self, offset: usize, value: usize) -> gimli::Result<usize> {
        Ok(self.0.map_or(value, |m| m.relocate(offset as u64, value as u64) as usize))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Field {
    pub name: String,
    pub offset: u64,
    pub ty: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Variant {
    /// The discriminant value (`DW_AT_discr_value` or an enumerator's constant), as text; empty for
    /// the variant without one (the niche's "otherwise").
    pub discr: String,
    pub name: String,
    pub ty: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Layout {
    pub name: String,
    /// `struct`, `enum` (a variant part: Rust enums with data), `c-enum` (enumerators), `union`.
    pub kind: &'static str,
    pub size: Option<u64>,
    pub align: Option<u64>,
    pub fields: Vec<Field>,
    pub variants: Vec<Variant>,
    /// Where the discriminant is stored (`offset`, type name; name empty).
    pub discr: Option<Field>,
}

/// What one call read.
#[derive(Debug, Default)]
pub struct Report {
    pub types: Vec<Layout>,
    /// Compile units read, and those skipped (not a workspace crate's).
    pub units: usize,
    pub skipped: usize,
    /// Units that describe any type at all (0 with `debuginfo=1` / `line-tables-only`).
    pub typed_units: usize,
    /// A skeleton unit (`-Csplit-debuginfo`): the types are in a `.dwo`/`.dwp`, not here.
    pub split: bool,
}

/// One DIE of interest, flattened (a unit's tree, with parents by index).
struct Node<'a> {
    tag: DwTag,
    parent: Option<usize>,
    /// Resolved to text only for the types that are kept (most DIEs are never named in the output).
    name: Option<AttributeValue<R<'a>>>,
    ty: Option<usize>,
    size: Option<u64>,
    align: Option<u64>,
    offset: Option<u64>,
    discr_value: Option<String>,
    discr_ref: Option<usize>,
    count: Option<u64>,
    artificial: bool,
    declaration: bool,
    children: Vec<usize>,
}

/// Does `name` mention one of `crates` as a path root (`counter::`, `<counter::`, `&counter::`)?
pub fn mentions_crate(name: &str, crates: &[String]) -> bool {
    crates.iter().any(|c| {
        let pat = format!("{}::", c);
        let mut from = 0;
        while let Some(i) = name[from..].find(&pat) {
            let at = from + i;
            let before = name[..at].chars().last();
            if !before.map_or(false, |ch| ch.is_alphanumeric() || ch == '_') {
                return true;
            }
            from = at + pat.len();
        }
        false
    })
}

/// The crate a compile unit belongs to, from rustc's unit name `<path>/@/<crate>.<hash>-cgu.<n>`.
fn unit_crate(unit_name: &str) -> Option<&str> {
    let cgu = unit_name.rsplit("/@/").next().filter(|_| unit_name.contains("/@/"))?;
    let dot = cgu.find('.')?;
    Some(&cgu[..dot])
}

fn is_type_tag(tag: DwTag) -> bool {
    matches!(
        tag,
        gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type | gimli::DW_TAG_enumeration_type
    )
}

struct UnitReader<'d, 'a> {
    dwarf: &'d gimli::Dwarf<R<'a>>,
    unit: &'d gimli::Unit<R<'a>>,
    nodes: Vec<Node<'a>>,
    /// (unit offset, node index), in offset order: DIEs are read in order.
    at: Vec<(usize, usize)>,
    /// Type references to resolve after the walk (node → unit offset).
    refs: Vec<(usize, RefKind, usize)>,
}

#[derive(Clone, Copy)]
enum RefKind {
    Type,
    Discr,
}

impl<'d, 'a> UnitReader<'d, 'a> {
    fn string(&self, v: AttributeValue<R<'a>>) -> Option<String> {
        let r = self.dwarf.attr_string(self.unit, v).ok()?;
        r.to_string_lossy().ok().map(|s| s.into_owned())
    }

    fn name(&self, idx: usize) -> Option<String> {
        self.nodes[idx].name.clone().and_then(|v| self.string(v))
    }

    /// Whether a type's full name would mention a workspace crate, without building it: its own
    /// name or an enclosing namespace or type's (`Option<counter::Stats>::Some`) does.
    fn mentions(&self, idx: usize, crates: &[String]) -> bool {
        let mut p = Some(idx);
        while let Some(i) = p {
            let n = &self.nodes[i];
            if n.tag == gimli::DW_TAG_compile_unit {
                break;
            }
            if let Some(name) = self.name(i) {
                if name.contains('{') {
                    return false; // closure, async and impl environments, vtables: left out
                }
                if crates.iter().any(|c| name == *c) || mentions_crate(&name, crates) {
                    return true;
                }
            }
            p = n.parent;
        }
        false
    }

    fn unit_ref(&self, v: AttributeValue<R<'a>>) -> Option<usize> {
        match v {
            AttributeValue::UnitRef(o) => Some(o.0),
            // rustc does not refer across units without LTO; such a type name reads "?"
            _ => None,
        }
    }

    fn walk(&mut self, node: gimli::EntriesTreeNode<R<'a>>, parent: Option<usize>) -> gimli::Result<()> {
        let e = node.entry();
        let tag = e.tag();
        let idx = self.nodes.len();
        let mut n = Node {
            tag,
            parent,
            name: None,
            ty: None,
            size: None,
            align: None,
            offset: None,
            discr_value: None,
            discr_ref: None,
            count: None,
            artificial: false,
            declaration: false,
            children: Vec::new(),
        };
        for a in e.attrs() {
            match a.name() {
                gimli::DW_AT_name => n.name = Some(a.value()),
                gimli::DW_AT_type => {
                    if let Some(o) = self.unit_ref(a.value()) {
                        self.refs.push((idx, RefKind::Type, o));
                    }
                }
                gimli::DW_AT_discr => {
                    if let Some(o) = self.unit_ref(a.value()) {
                        self.refs.push((idx, RefKind::Discr, o));
                    }
                }
                gimli::DW_AT_byte_size => n.size = a.udata_value(),
                gimli::DW_AT_alignment => n.align = a.udata_value(),
                gimli::DW_AT_data_member_location => n.offset = a.udata_value(),
                gimli::DW_AT_count => n.count = a.udata_value(),
                gimli::DW_AT_upper_bound if n.count.is_none() => n.count = a.udata_value().map(|u| u + 1),
                gimli::DW_AT_discr_value | gimli::DW_AT_const_value => {
                    n.discr_value = match a.value() {
                        AttributeValue::Sdata(v) => Some(v.to_string()),
                        AttributeValue::Block(b) => b.to_slice().ok().map(|x| format!("{:?}", x.as_ref())),
                        v => v.udata_value().map(|u| u.to_string()).or_else(|| v.sdata_value().map(|s| s.to_string())),
                    }
                }
                gimli::DW_AT_artificial => n.artificial = matches!(a.value(), AttributeValue::Flag(true)),
                gimli::DW_AT_declaration => n.declaration = matches!(a.value(), AttributeValue::Flag(true)),
                _ => {}
            }
        }
        self.at.push((e.offset().0, idx));
        self.nodes.push(n);
        if let Some(p) = parent {
            self.nodes[p].children.push(idx);
        }
        if tag == gimli::DW_TAG_subprogram {
            return Ok(()); // variables and parameters: no types
        }
        let mut children = node.children();
        while let Some(child) = children.next()? {
            self.walk(child, Some(idx))?;
        }
        Ok(())
    }

    fn link_refs(&mut self) {
        for (idx, kind, off) in std::mem::take(&mut self.refs) {
            let target = self.at.binary_search_by_key(&off, |x| x.0).ok().map(|i| self.at[i].1);
            match kind {
                RefKind::Type => self.nodes[idx].ty = target,
                RefKind::Discr => self.nodes[idx].discr_ref = target,
            }
        }
    }

    /// The full name of a type node: namespaces and enclosing types, then its own name.
    fn qualified(&self, idx: usize) -> Option<String> {
        let n = &self.nodes[idx];
        let own = self.name(idx)?;
        let mut parts = vec![own];
        let mut p = n.parent;
        while let Some(i) = p {
            let pn = &self.nodes[i];
            if pn.tag == gimli::DW_TAG_compile_unit {
                break;
            }
            parts.push(self.name(i).unwrap_or_else(|| "?".into()));
            p = pn.parent;
        }
        parts.reverse();
        Some(parts.join("::"))
    }

    /// A type's name as a field's type: qualified for aggregates, as rustc wrote it for base and
    /// pointer types (`u64`, `&str`), `[T; N]` for arrays.
    fn type_name(&self, idx: Option<usize>, depth: usize) -> String {
        let Some(i) = idx else { return "?".into() };
        if depth > 16 {
            return "?".into();
        }
        let n = &self.nodes[i];
        match n.tag {
            gimli::DW_TAG_array_type => {
                let elem = self.type_name(n.ty, depth + 1);
                let dims: Vec<String> = n
                    .children
                    .iter()
                    .filter(|&&c| self.nodes[c].tag == gimli::DW_TAG_subrange_type)
                    .map(|&c| self.nodes[c].count.map_or("?".into(), |x| x.to_string()))
                    .collect();
                dims.iter().rev().fold(elem, |acc, d| format!("[{}; {}]", acc, d))
            }
            t if is_type_tag(t) || t == gimli::DW_TAG_typedef => self.qualified(i).unwrap_or_else(|| "?".into()),
            _ => self.name(i).unwrap_or_else(|| "?".into()),
        }
    }

    fn field(&self, m: usize) -> Field {
        let n = &self.nodes[m];
        Field { name: self.name(m).unwrap_or_default(), offset: n.offset.unwrap_or(0), ty: self.type_name(n.ty, 0) }
    }

    fn layout(&self, idx: usize, name: String) -> Layout {
        let n = &self.nodes[idx];
        let mut l = Layout {
            name,
            kind: match n.tag {
                gimli::DW_TAG_union_type => "union",
                gimli::DW_TAG_enumeration_type => "c-enum",
                _ => "struct",
            },
            size: n.size,
            align: n.align,
            fields: vec![],
            variants: vec![],
            discr: None,
        };
        for &c in &n.children {
            let cn = &self.nodes[c];
            match cn.tag {
                gimli::DW_TAG_member => l.fields.push(self.field(c)),
                gimli::DW_TAG_enumerator => l.variants.push(Variant {
                    discr: cn.discr_value.clone().unwrap_or_default(),
                    name: self.name(c).unwrap_or_default(),
                    ty: String::new(),
                }),
                gimli::DW_TAG_variant_part => {
                    l.kind = "enum";
                    if let Some(d) = cn.discr_ref {
                        l.discr = Some(self.field(d));
                    }
                    for &v in &cn.children {
                        let vn = &self.nodes[v];
                        if vn.tag != gimli::DW_TAG_variant {
                            continue;
                        }
                        for &m in &vn.children {
                            if self.nodes[m].tag == gimli::DW_TAG_member {
                                let f = self.field(m);
                                l.variants.push(Variant { discr: vn.discr_value.clone().unwrap_or_default(), name: f.name, ty: f.ty });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        l
    }
}

/// Which compile units of an executable to read: those of workspace crates. `roots`: the
/// workspace's directories (cargo compiles members there: `DW_AT_comp_dir`); a unit compiled
/// elsewhere (a registry crate, a path dependency outside the workspace) is not a workspace crate's.
#[derive(Clone, Copy)]
pub struct UnitFilter<'r> {
    pub roots: &'r [String],
}

fn under_root(dir: &str, roots: &[String]) -> bool {
    roots.iter().any(|r| {
        let r = r.trim_end_matches('/');
        dir == r || (dir.starts_with(r) && dir.as_bytes().get(r.len()) == Some(&b'/'))
    })
}

fn read_units(dwarf: &gimli::Dwarf<R<'_>>, crates: &[String], filter: Option<UnitFilter<'_>>, out: &mut Report) -> gimli::Result<()> {
    let mut headers = dwarf.units();
    while let Some(header) = headers.next()? {
        if matches!(header.type_(), gimli::UnitType::Skeleton(_) | gimli::UnitType::SplitCompilation(_)) {
            out.split = true;
        }
        let unit = dwarf.unit(header)?;
        if unit.dwo_id.is_some() {
            out.split = true; // a DWARF 4 GNU skeleton: DW_AT_GNU_dwo_id
        }
        if let Some(filter) = filter {
            let name = unit.name.as_ref().and_then(|n| n.to_string_lossy().ok()).map(|s| s.into_owned());
            let foreign_crate = name.as_deref().and_then(unit_crate).map_or(false, |c| !crates.iter().any(|w| w == c));
            let dir = unit.comp_dir.as_ref().and_then(|n| n.to_string_lossy().ok()).map(|s| s.into_owned());
            let foreign_dir = !filter.roots.is_empty() && dir.as_deref().map_or(false, |d| !under_root(d, filter.roots));
            if foreign_crate || foreign_dir {
                out.skipped += 1;
                continue;
            }
        }
        out.units += 1;
        let mut r = UnitReader { dwarf, unit: &unit, nodes: Vec::new(), at: Vec::new(), refs: Vec::new() };
        {
            let mut tree = unit.entries_tree(None)?;
            let root = tree.root()?;
            r.walk(root, None)?;
        }
        r.link_refs();
        let mut typed = false;
        for i in 0..r.nodes.len() {
            let n = &r.nodes[i];
            if n.tag == gimli::DW_TAG_base_type || is_type_tag(n.tag) {
                typed = true;
            }
            if !is_type_tag(n.tag) || n.declaration || n.name.is_none() || !r.mentions(i, crates) {
                continue;
            }
            let Some(name) = r.qualified(i) else { continue };
            if name.contains('{') || !mentions_crate(&name, crates) {
                continue;
            }
            out.types.push(r.layout(i, name));
        }
        if typed {
            out.typed_units += 1;
        }
    }
    Ok(())
}

const DEBUG_SECTIONS: &[SectionId] = &[
    SectionId::DebugAbbrev,
    SectionId::DebugInfo,
    SectionId::DebugStr,
    SectionId::DebugStrOffsets,
    SectionId::DebugLineStr,
    SectionId::DebugAddr,
    SectionId::DebugRngLists,
    SectionId::DebugRanges,
    SectionId::DebugLine,
    SectionId::DebugTypes,
];

/// Debug sections by name, with the relocations to apply (a `.o`'s), as `load_dwarf` reads them.
pub(crate) type Sections<'a> = HashMap<&'static str, (Cow<'a, [u8]>, Option<object::read::RelocationMap>)>;

/// The DWARF of `sections` (also read by instances.rs).
pub(crate) fn load_dwarf<'s>(sections: &'s Sections<'_>, endian: RunTimeEndian) -> Result<gimli::Dwarf<R<'s>>, String> {
    let load = |id: SectionId| -> Result<R<'_>, gimli::Error> {
        let (data, relocs) = match sections.get(id.name()) {
            Some((d, r)) => (d.as_ref(), r.as_ref()),
            None => (&[][..], None),
        };
        Ok(gimli::RelocateReader::new(EndianSlice::new(data, endian), Relocs(relocs)))
    };
    gimli::Dwarf::load(load).map_err(|e| format!("cannot load DWARF: {}", e))
}

/// Reads layouts from `sections` (name → bytes, relocations) with `endian`.
fn read_sections(sections: &Sections<'_>, endian: RunTimeEndian, crates: &[String], filter: Option<UnitFilter<'_>>) -> Result<Report, String> {
    let dwarf = load_dwarf(sections, endian)?;
    let mut report = Report::default();
    read_units(&dwarf, crates, filter, &mut report).map_err(|e| format!("cannot read DWARF: {}", e))?;
    dedupe(&mut report.types);
    Ok(report)
}

/// One type is described in every unit that uses it: identical layouts once.
fn dedupe(types: &mut Vec<Layout>) {
    let set: BTreeSet<Layout> = types.drain(..).collect();
    types.extend(set);
}

/// The debug sections of an ELF file (a `.o`: with the relocations of the sections whose offsets
/// are read), its byte order, and whether it is relocatable (also read by instances.rs).
pub(crate) fn elf_sections(bytes: &[u8]) -> Result<(Sections<'_>, RunTimeEndian, bool), String> {
    let file = object::File::parse(bytes).map_err(|e| format!("not an object file: {}", e))?;
    let endian = if file.is_little_endian() { RunTimeEndian::Little } else { RunTimeEndian::Big };
    let relocatable = file.kind() == object::ObjectKind::Relocatable;
    let mut sections = HashMap::new();
    for id in DEBUG_SECTIONS {
        let Some(section) = file.section_by_name(id.name()) else { continue };
        let data = section.uncompressed_data().map_err(|e| format!("{}: {}", id.name(), e))?;
        // Only offsets read from .debug_info and .debug_str_offsets are used (names, type
        // references); other sections' relocations (addresses, line tables) are not applied.
        let needs_relocs = matches!(id, SectionId::DebugInfo | SectionId::DebugStrOffsets | SectionId::DebugTypes);
        let relocs = if relocatable && needs_relocs {
            // Relocations DWARF readers cannot use (TLS offsets in location expressions) are left
            // out one by one rather than failing the section: locations are not read here.
            let mut map = object::read::RelocationMap::default();
            for (offset, rel) in section.relocations() {
                let _ = map.add(&file, offset, rel);
            }
            Some(map)
        } else {
            None
        };
        sections.insert(id.name(), (data, relocs));
    }
    Ok((sections, endian, relocatable))
}

/// Layouts from an ELF file (a `.o` with relocations, or a whole executable).
pub fn layouts_of_elf(bytes: &[u8], crates: &[String], roots: &[String]) -> Result<Report, String> {
    let (sections, endian, relocatable) = elf_sections(bytes)?;
    let filter = if relocatable { None } else { Some(UnitFilter { roots }) };
    read_sections(&sections, endian, crates, filter)
}

/// Layouts from a linked executable's debug sections alone (`[u32 name len][name][u32 len][bytes]`…,
/// little-endian lengths): the host reads these from the file instead of copying the whole binary.
pub fn layouts_of_sections(payload: &[u8], little_endian: bool, crates: &[String], roots: &[String]) -> Result<Report, String> {
    let mut sections = HashMap::new();
    let mut rest = payload;
    let take = |rest: &mut &[u8], n: usize| -> Result<Vec<u8>, String> {
        if rest.len() < n {
            return Err("truncated section list".into());
        }
        let (a, b) = rest.split_at(n);
        *rest = b;
        Ok(a.to_vec())
    };
    while !rest.is_empty() {
        let nlen = u32::from_le_bytes(take(&mut rest, 4)?.try_into().unwrap()) as usize;
        let name = String::from_utf8(take(&mut rest, nlen)?).map_err(|_| "bad section name")?;
        let dlen = u32::from_le_bytes(take(&mut rest, 4)?.try_into().unwrap()) as usize;
        if rest.len() < dlen {
            return Err("truncated section list".into());
        }
        let (data, after) = rest.split_at(dlen);
        rest = after;
        if let Some(id) = DEBUG_SECTIONS.iter().find(|id| id.name() == name) {
            sections.insert(id.name(), (Cow::Borrowed(data), None));
        }
    }
    let endian = if little_endian { RunTimeEndian::Little } else { RunTimeEndian::Big };
    read_sections(&sections, endian, crates, Some(UnitFilter { roots }))
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_field(out: &mut String, f: &Field) {
    out.push('[');
    json_str(out, &f.name);
    out.push_str(&format!(",{},", f.offset));
    json_str(out, &f.ty);
    out.push(']');
}

/// `{"n":name,"k":kind,"s":size,"a":align,"f":[[name,offset,type]…],"v":[[discr,name,type]…],"d":[name,offset,type]}`
pub fn to_json(r: &Report) -> String {
    let mut out = String::with_capacity(64 + r.types.len() * 128);
    out.push_str("{\"types\":[");
    for (i, t) in r.types.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"n\":");
        json_str(&mut out, &t.name);
        out.push_str(&format!(",\"k\":\"{}\"", t.kind));
        if let Some(s) = t.size {
            out.push_str(&format!(",\"s\":{}", s));
        }
        if let Some(a) = t.align {
            out.push_str(&format!(",\"a\":{}", a));
        }
        if !t.fields.is_empty() {
            out.push_str(",\"f\":[");
            for (j, f) in t.fields.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                json_field(&mut out, f);
            }
            out.push(']');
        }
        if !t.variants.is_empty() {
            out.push_str(",\"v\":[");
            for (j, v) in t.variants.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push('[');
                json_str(&mut out, &v.discr);
                out.push(',');
                json_str(&mut out, &v.name);
                out.push(',');
                json_str(&mut out, &v.ty);
                out.push(']');
            }
            out.push(']');
        }
        if let Some(d) = &t.discr {
            out.push_str(",\"d\":");
            json_field(&mut out, d);
        }
        out.push('}');
    }
    out.push_str(&format!("],\"units\":{},\"skipped\":{},\"typedUnits\":{},\"split\":{}}}", r.units, r.skipped, r.typed_units, r.split));
    out
}

/// Input: `[u32 header len][header][payload]`; header lines: `elf` or `sections-le`/`sections-be`;
/// the workspace crate names separated by commas; optionally the workspace's directories separated
/// by NUL (an executable's units compiled elsewhere are skipped).
fn run(input: &[u8]) -> Result<Report, String> {
    if input.len() < 4 {
        return Err("input too short".into());
    }
    let hlen = u32::from_le_bytes(input[..4].try_into().unwrap()) as usize;
    let header = input.get(4..4 + hlen).ok_or("truncated header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not UTF-8")?;
    let payload = &input[4 + hlen..];
    let mut lines = header.splitn(3, '\n');
    let mode = lines.next().unwrap_or("");
    let crates: Vec<String> = lines.next().unwrap_or("").split(',').filter(|c| !c.is_empty()).map(String::from).collect();
    let roots: Vec<String> = lines.next().unwrap_or("").split('\0').filter(|c| !c.is_empty()).map(String::from).collect();
    match mode {
        "elf" => layouts_of_elf(payload, &crates, &roots),
        "sections-le" => layouts_of_sections(payload, true, &crates, &roots),
        "sections-be" => layouts_of_sections(payload, false, &crates, &roots),
        m => Err(format!("unknown input kind {:?}", m)),
    }
}

/// Entry point: the result is the JSON above, or `{"error":"…"}`.
#[no_mangle]
pub extern "C" fn sd_layouts(ptr: *mut u8, len: usize) -> *mut u8 {
    let input = abi::take_input(ptr, len);
    let out = match run(input.bytes()) {
        Ok(r) => to_json(&r),
        Err(e) => {
            let mut s = String::from("{\"error\":");
            json_str(&mut s, &e);
            s.push('}');
            s
        }
    };
    drop(input);
    abi::result(out.as_bytes())
}

#[cfg(test)]
mod tests;
