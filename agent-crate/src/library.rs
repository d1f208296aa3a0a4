//! Patch libraries that arrive as bytes, for an app that cannot read the server's files (another
//! machine, a container, a runner that hides `target/`): the server announces one with a
//! `PatchLibrary` message, sends its bytes in binary frames, then the `HotReload` frame naming the
//! same `lib`. This module collects the bytes, writes them where this process can load them, and
//! reads the launch's probe file (which tells the server whether paths would do).
//! No sockets and no patching here.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;

/// The largest library accepted (the server's bound too): patch libraries are tens of KB to a few
/// MB; a bigger announcement is refused before any byte is buffered.
pub(crate) const MAX_LIBRARY_BYTES: usize = 128 * 1024 * 1024;

/// Longest probe text read (the server writes 32 hex digits).
const MAX_PROBE_BYTES: u64 = 256;

#[derive(Debug, Deserialize)]
enum Envelope {
    SubsecondAgent(Inner),
}

#[derive(Debug, Deserialize)]
enum Inner {
    PatchLibrary(Header),
}

/// `{"SubsecondAgent":{"PatchLibrary":{"lib":…,"bytes":n}}}`.
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct Header {
    pub lib: String,
    pub bytes: u64,
}

/// Parses a `PatchLibrary` announcement; `None` for any other frame.
pub(crate) fn parse_header(text: &str) -> Option<Header> {
    match serde_json::from_str::<Envelope>(text).ok()? {
        Envelope::SubsecondAgent(Inner::PatchLibrary(h)) => Some(h),
    }
}

/// The library being received (at most one: a new announcement replaces an unfinished one).
#[derive(Default)]
pub(crate) struct Inbox {
    pending: Option<Pending>,
}

struct Pending {
    lib: String,
    expected: usize,
    bytes: Vec<u8>,
    /// Why this library cannot be used; its remaining frames are dropped.
    broken: Option<String>,
}

impl Inbox {
    pub(crate) fn announce(&mut self, header: Header) {
        let (expected, broken) = match usize::try_from(header.bytes) {
            Ok(n) if n <= MAX_LIBRARY_BYTES => (n, None),
            _ => (
                0,
                Some(format!(
                    "the server announced a patch library of {} bytes, more than the {} MB this agent accepts",
                    header.bytes,
                    MAX_LIBRARY_BYTES / (1024 * 1024)
                )),
            ),
        };
        let bytes = if broken.is_none() { Vec::with_capacity(expected) } else { Vec::new() };
        self.pending = Some(Pending { lib: header.lib, expected, bytes, broken });
    }

    /// One binary frame. Frames that no announcement explains are ignored.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        let Some(p) = self.pending.as_mut() else { return };
        if p.broken.is_some() {
            return;
        }
        if p.bytes.len() + chunk.len() > p.expected {
            p.broken = Some(format!("the patch library's bytes overran the {} announced", p.expected));
            p.bytes = Vec::new();
            return;
        }
        p.bytes.extend_from_slice(chunk);
    }

    /// The bytes announced for `lib`: `None` when none were (the table is applied by path),
    /// an error when they did not arrive whole.
    pub(crate) fn take(&mut self, lib: &str) -> Option<Result<Vec<u8>, String>> {
        if self.pending.as_ref()?.lib != lib {
            return None;
        }
        let p = self.pending.take()?;
        Some(match p.broken {
            Some(why) => Err(why),
            None if p.bytes.len() != p.expected => {
                Err(format!("only {} of the patch library's {} bytes arrived", p.bytes.len(), p.expected))
            }
            None => Ok(p.bytes),
        })
    }
}

/// Writes the library where this process can `dlopen` it and returns that path: an anonymous
/// memory file (`memfd_create`, seen as `/proc/self/fd/N`) where the system has one, otherwise a
/// file in a private directory under the temp dir. `lib` (the server's path) only names it.
pub(crate) fn materialize(lib: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let name = Path::new(lib).file_name().and_then(OsStr::to_str).unwrap_or("patch.so");
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(path) = memory_file(name, bytes) {
        return Ok(path);
    }
    temp_file(name, bytes)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn memory_file(name: &str, bytes: &[u8]) -> Option<PathBuf> {
    use std::os::fd::{FromRawFd, IntoRawFd};
    // Linux 6.3+: asks for an executable memfd explicitly (refused where `vm.memfd_noexec` forbids
    // it: then the temp file); older kernels reject the flag, and their memfds are executable.
    const MFD_EXEC: libc::c_uint = 0x0010;
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: a valid NUL-terminated name; the returned fd is owned by the File below.
    let mut fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC | MFD_EXEC) };
    if fd < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
    }
    if fd < 0 {
        return None;
    }
    // SAFETY: fd was just created and is owned by nobody else.
    let mut file = unsafe { File::from_raw_fd(fd) };
    file.write_all(bytes).ok()?;
    let path = PathBuf::from(format!("/proc/self/fd/{fd}"));
    if !path.is_file() {
        return None; // no /proc here: dlopen could not name it
    }
    // Kept open for the life of the process: the path is the fd, and a closed then reused fd
    // number would make dlopen return the library already loaded under that same name. The
    // library stays mapped anyway (patches are never unloaded).
    let _ = file.into_raw_fd();
    Some(path)
}

fn temp_file(name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let dir = std::env::temp_dir().join(format!("subsecond-agent-{}", std::process::id()));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Ours from an earlier patch, or someone else's trap: only a plain directory of our own will do.
            let meta = std::fs::symlink_metadata(&dir).map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
            // SAFETY: geteuid has no preconditions.
            if !meta.is_dir() || meta.uid() != unsafe { libc::geteuid() } {
                return Err(format!("cannot write the patch library: {} is not a directory of this user", dir.display()));
            }
        }
        Err(e) => return Err(format!("cannot create {} for the patch library: {e}", dir.display())),
    }
    // A new name each time: dlopen returns an already loaded library for a name it has seen.
    let path = dir.join(format!("{}-{name}", NEXT.fetch_add(1, Ordering::Relaxed)));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(&path)
        .map_err(|e| format!("cannot write the patch library to {}: {e}", path.display()))?;
    file.write_all(bytes).map_err(|e| format!("cannot write the patch library to {}: {e}", path.display()))?;
    Ok(path)
}

/// What the launch's probe file (`SUBSECOND_LSP_PROBE`) holds, `None` when it cannot be read here.
pub(crate) fn read_probe(path: Option<&str>) -> Option<String> {
    let mut text = String::new();
    File::open(path?).ok()?.take(MAX_PROBE_BYTES).read_to_string(&mut text).ok()?;
    Some(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lib: &str, bytes: u64) -> Header {
        Header { lib: lib.into(), bytes }
    }

    #[test]
    fn parses_the_announcement_only() {
        assert_eq!(
            parse_header(r#"{"SubsecondAgent":{"PatchLibrary":{"lib":"/t/libapp-patch-2.so","bytes":12}}}"#),
            Some(header("/t/libapp-patch-2.so", 12))
        );
        assert_eq!(parse_header(r#"{"SubsecondAgent":{"DetourPlan":{"lib":"/x"}}}"#), None);
        assert_eq!(parse_header(r#"{"HotReload":{}}"#), None);
        assert_eq!(parse_header("junk"), None);
    }

    #[test]
    fn collects_chunks_for_the_announced_library() {
        let mut inbox = Inbox::default();
        inbox.push(b"stray"); // nothing announced: ignored
        inbox.announce(header("/t/a.so", 5));
        inbox.push(b"ab");
        inbox.push(b"cde");
        assert_eq!(inbox.take("/t/other.so"), None, "bytes for another library are not this one's");
        assert_eq!(inbox.take("/t/a.so"), Some(Ok(b"abcde".to_vec())));
        assert_eq!(inbox.take("/t/a.so"), None, "taken once");
    }

    #[test]
    fn short_overrun_and_oversized_libraries_are_errors() {
        let mut inbox = Inbox::default();
        inbox.announce(header("/t/a.so", 5));
        inbox.push(b"ab");
        assert!(inbox.take("/t/a.so").unwrap().unwrap_err().contains("only 2 of the patch library's 5 bytes"));

        inbox.announce(header("/t/b.so", 2));
        inbox.push(b"abc");
        assert!(inbox.take("/t/b.so").unwrap().unwrap_err().contains("overran"));

        inbox.announce(header("/t/c.so", MAX_LIBRARY_BYTES as u64 + 1));
        inbox.push(b"abc");
        assert!(inbox.take("/t/c.so").unwrap().unwrap_err().contains("more than the 128 MB"));
    }

    #[test]
    fn materialized_bytes_read_back_under_distinct_paths() {
        let a = materialize("/srv/target/libapp-patch-1.so", b"\x7fELF one").unwrap();
        let b = materialize("/srv/target/libapp-patch-1.so", b"\x7fELF two").unwrap();
        assert_ne!(a, b, "every library gets a name dlopen has not seen");
        assert_eq!(std::fs::read(&a).unwrap(), b"\x7fELF one");
        assert_eq!(std::fs::read(&b).unwrap(), b"\x7fELF two");
        let t = temp_file("libapp-patch-1.so", b"x").unwrap();
        assert_eq!(std::fs::read(&t).unwrap(), b"x");
        assert!(t.starts_with(std::env::temp_dir()));
        std::fs::remove_file(t).ok();
    }

    #[test]
    fn reads_the_probe_or_says_it_cannot() {
        let path = std::env::temp_dir().join(format!("subsecond-agent-probe-{}", std::process::id()));
        std::fs::write(&path, "0123abcd\n").unwrap();
        assert_eq!(read_probe(path.to_str()), Some("0123abcd".into()));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read_probe(path.to_str()), None);
        assert_eq!(read_probe(None), None);
    }
}
