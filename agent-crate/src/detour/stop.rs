//! Stopping every other thread of the process while function entries are rewritten (Linux).
//!
//! Each other thread gets a real-time signal (`tgkill`); its handler records the interrupted
//! program counter and stack pointer and parks the thread on a futex until the writer releases
//! the round. After release the thread runs a serializing instruction (`cpuid` / `isb`) so it
//! fetches the new code.
//!
//! Under qemu-user (an app built for another architecture, started through cargo's runner) the
//! process also holds the emulator's own threads, which never run the app's code and block every
//! signal: they are recognised (the emulator named in the main thread's host `comm`, the thread's
//! host signal mask blocking all asynchronous signals) and not waited for. Each pass re-reads
//! the masks, so a thread qemu is just creating (all signals blocked until it sets the guest's
//! mask) is signalled in the next pass; the window left is that thread's first instructions.
//!
//! While threads are parked the writer must not allocate or take any lock an app thread could
//! hold (a parked thread may be inside `malloc`): everything it needs is allocated up front, the
//! thread list is read with raw `getdents64` into a fixed buffer, and only syscalls are made.

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::arch;

/// Threads beyond this many are not stopped (the round then fails and nothing is written).
const MAX_THREADS: usize = 4096;

struct Slot {
    tid: AtomicI32,
    round: AtomicU32,
    pc: AtomicUsize,
    sp: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot { tid: AtomicI32::new(0), round: AtomicU32::new(0), pc: AtomicUsize::new(0), sp: AtomicUsize::new(0) };
static SLOTS: [Slot; MAX_THREADS] = [EMPTY_SLOT; MAX_THREADS];
static SLOT_NEXT: AtomicUsize = AtomicUsize::new(0);
/// The round in progress (0: none yet).
static ROUND: AtomicU32 = AtomicU32::new(0);
/// The last released round; the futex word parked threads wait on.
static RELEASED: AtomicU32 = AtomicU32::new(0);
/// Handlers currently running (parked or about to return).
static INSIDE: AtomicUsize = AtomicUsize::new(0);
/// The signal our handler is installed on (0: not installed).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// 1: the process is qemu-user running this program; 2: it is not; 0: not known yet.
static EMULATED: AtomicI32 = AtomicI32::new(0);
/// One stopper at a time: two threads stopping each other would both stay parked.
static STOPPER: Mutex<()> = Mutex::new(());

/// A parked thread's interrupted context.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parked {
    #[allow(dead_code)] // for Debug output
    pub tid: i32,
    pub pc: usize,
    pub sp: usize,
}

extern "C" fn on_signal(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    INSIDE.fetch_add(1, Ordering::SeqCst);
    // SAFETY: errno is thread-local; the handler restores it so the interrupted code never sees
    // our syscalls' errors.
    let errno = unsafe { *libc::__errno_location() };
    let round = ROUND.load(Ordering::SeqCst);
    if RELEASED.load(Ordering::SeqCst) < round {
        // SAFETY: ctx is the ucontext of an SA_SIGINFO handler.
        let (pc, sp) = unsafe { arch::context_pc_sp(ctx) };
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
        let i = SLOT_NEXT.fetch_add(1, Ordering::SeqCst);
        if let Some(slot) = SLOTS.get(i) {
            slot.tid.store(tid, Ordering::Relaxed);
            slot.pc.store(pc, Ordering::Relaxed);
            slot.sp.store(sp, Ordering::Relaxed);
            slot.round.store(round, Ordering::Release);
        }
        loop {
            let released = RELEASED.load(Ordering::Acquire);
            if released >= round {
                break;
            }
            // SAFETY: futex wait on a static word; returns on wake, value change, or signal.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    RELEASED.as_ptr(),
                    libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                    released,
                    std::ptr::null::<libc::timespec>(),
                );
            }
        }
        arch::serialize();
    }
    unsafe { *libc::__errno_location() = errno };
    INSIDE.fetch_sub(1, Ordering::SeqCst);
}

/// Installs the handler once, on the highest real-time signal nobody else handles.
fn install() -> Result<libc::c_int, String> {
    emulated(); // decided before any thread is stopped
    let sig = SIGNAL.load(Ordering::SeqCst);
    if sig != 0 {
        return Ok(sig);
    }
    let (lo, hi) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let mut candidate = hi - 2;
    while candidate > lo {
        // SAFETY: plain sigaction queries/updates with zeroed, then filled, structures.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(candidate, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
                // Nothing else interrupts a parked thread.
                libc::sigfillset(&mut sa.sa_mask);
                if libc::sigaction(candidate, &sa, std::ptr::null_mut()) == 0 {
                    SIGNAL.store(candidate, Ordering::SeqCst);
                    return Ok(candidate);
                }
            }
        }
        candidate -= 1;
    }
    Err("no free real-time signal to stop threads with".into())
}

/// Reads the ids of this process's threads into `out` (cleared first) without allocating.
fn list_threads(out: &mut Vec<i32>) -> bool {
    out.clear();
    // SAFETY: raw open/getdents64/close on a NUL-terminated literal path and a stack buffer.
    unsafe {
        let fd = libc::open(c"/proc/self/task".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let mut buf = [0u8; 4096];
        loop {
            let n = libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len());
            if n <= 0 {
                break;
            }
            let mut off = 0usize;
            while off < n as usize {
                // linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name...
                let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
                let name = &buf[off + 19..off + reclen];
                let mut tid: i32 = 0;
                let mut digits = 0;
                for &c in name {
                    if c == 0 {
                        break;
                    }
                    if !c.is_ascii_digit() {
                        digits = 0;
                        break;
                    }
                    tid = tid.saturating_mul(10).saturating_add((c - b'0') as i32);
                    digits += 1;
                }
                if digits > 0 && out.len() < out.capacity() {
                    out.push(tid);
                }
                off += reclen;
            }
        }
        libc::close(fd);
    }
    true
}

/// Reads `path` (NUL-terminated) into `buf` with raw syscalls; the number of bytes read.
fn read_small(path: &[u8], buf: &mut [u8]) -> usize {
    // SAFETY: raw open/read/close on a NUL-terminated path and a caller's buffer.
    unsafe {
        let fd = libc::open(path.as_ptr() as *const libc::c_char, libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return 0;
        }
        let mut len = 0usize;
        while len < buf.len() {
            let n = libc::read(fd, buf[len..].as_mut_ptr() as *mut libc::c_void, buf.len() - len);
            if n <= 0 {
                break;
            }
            len += n as usize;
        }
        libc::close(fd);
        len
    }
}

/// Whether this process is qemu-user emulating us: qemu passes `/proc/self/task/*/comm` through
/// from the host, where the main thread is the emulator (`qemu-aarch64`, `qemu-aarch64-static`).
fn emulated() -> bool {
    match EMULATED.load(Ordering::Relaxed) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    let mut buf = [0u8; 32];
    let n = read_small(b"/proc/self/comm\0", &mut buf);
    let yes = buf[..n].starts_with(b"qemu-");
    EMULATED.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
    yes
}

/// A thread of the emulator itself (qemu's RCU thread): its host signal mask blocks every
/// asynchronous signal, which no thread running guest code has under qemu-user (qemu keeps the
/// guest's signal masks itself). Without allocating: a fixed path buffer and a stack read.
fn emulator_thread(tid: i32) -> bool {
    let mut path = [0u8; 48];
    let prefix = b"/proc/self/task/";
    path[..prefix.len()].copy_from_slice(prefix);
    let mut at = prefix.len();
    let mut digits = [0u8; 12];
    let (mut d, mut v) = (0usize, tid as u32);
    loop {
        digits[d] = b'0' + (v % 10) as u8;
        d += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    while d > 0 {
        d -= 1;
        path[at] = digits[d];
        at += 1;
    }
    let suffix = b"/status\0";
    path[at..at + suffix.len()].copy_from_slice(suffix);
    let mut buf = [0u8; 2048];
    let n = read_small(&path, &mut buf);
    let text = &buf[..n];
    let Some(pos) = text.windows(7).position(|w| w == b"SigBlk:") else { return false };
    let mut mask: u64 = 0;
    for &c in text[pos + 7..].iter().skip_while(|c| c.is_ascii_whitespace()) {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => break,
        };
        mask = (mask << 4) | v as u64;
    }
    // SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCHLD and every real-time signal
    // from 34 up: bit n-1 is signal n.
    let async_signals: u64 = [1u32, 2, 10, 12, 14, 15, 17].iter().fold(0u64, |m, s| m | (1u64 << (s - 1))) | (!0u64 << 33);
    mask & async_signals == async_signals
}

fn tid_alive(tid: i32) -> bool {
    // Signal 0 only checks existence.
    unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, 0) == 0 }
}

/// A round of stopped threads. Dropping it releases them.
pub(crate) struct Stopped {
    round: u32,
    pub parked: Vec<Parked>,
    /// Dropped after `drop` released the round (fields drop after the Drop impl runs).
    _stopper: MutexGuard<'static, ()>,
}

impl Drop for Stopped {
    fn drop(&mut self) {
        release(self.round);
    }
}

fn release(round: u32) {
    RELEASED.store(round, Ordering::SeqCst);
    // SAFETY: futex wake of a static word.
    unsafe {
        libc::syscall(libc::SYS_futex, RELEASED.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX);
    }
    // The threads return from their handlers when they are next scheduled; the next round waits
    // for that (INSIDE) before it reuses the slots.
}

/// Scratch space for rounds, allocated before any thread is stopped.
pub(crate) struct Scratch {
    tids: Vec<i32>,
    signaled: Vec<i32>,
    parked: Vec<Parked>,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Self { tids: Vec::with_capacity(MAX_THREADS), signaled: Vec::with_capacity(MAX_THREADS), parked: Vec::with_capacity(MAX_THREADS) }
    }
}

/// Stops every other thread of the process. Fails (with every thread released) when one does not
/// park within `timeout` (signal blocked, stuck in an uninterruptible wait) or there are too many.
pub(crate) fn stop_others(scratch: &mut Scratch, timeout: Duration) -> Result<Stopped, String> {
    let sig = install()?;
    // Taken before anything else: a thread waiting here gets parked like any other.
    let stopper = STOPPER.lock().unwrap_or_else(|e| e.into_inner());
    // A previous round's handlers must all have returned before slots are reused.
    let settle = Instant::now() + timeout;
    while INSIDE.load(Ordering::SeqCst) != 0 {
        if Instant::now() > settle {
            return Err("threads of a previous stop have not resumed".into());
        }
        std::thread::yield_now();
    }
    SLOT_NEXT.store(0, Ordering::SeqCst);
    let round = ROUND.load(Ordering::SeqCst) + 1;
    ROUND.store(round, Ordering::SeqCst);
    let mut stopped = Stopped { round, parked: std::mem::take(&mut scratch.parked), _stopper: stopper };
    stopped.parked.clear();

    let me = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
    let pid = unsafe { libc::getpid() };
    scratch.signaled.clear();
    let deadline = Instant::now() + timeout;
    // Failures are described only after the threads are released: formatting allocates.
    let failure: Option<(i32, bool)> = 'signal: loop {
        if !list_threads(&mut scratch.tids) || scratch.tids.len() == scratch.tids.capacity() {
            break 'signal Some((0, true));
        }
        let mut new = 0;
        for &tid in &scratch.tids {
            if tid == me || scratch.signaled.contains(&tid) {
                continue;
            }
            if emulated() && emulator_thread(tid) {
                continue;
            }
            // SAFETY: tgkill to a thread of our own process.
            let r = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, sig) };
            if r == 0 {
                scratch.signaled.push(tid);
                new += 1;
            }
        }
        // Wait until every signaled thread has parked (or exited).
        loop {
            let n = SLOT_NEXT.load(Ordering::SeqCst).min(MAX_THREADS);
            let parked = |tid: i32| SLOTS[..n].iter().any(|s| s.round.load(Ordering::Acquire) == round && s.tid.load(Ordering::Relaxed) == tid);
            match scratch.signaled.iter().find(|&&tid| !parked(tid) && tid_alive(tid)) {
                None => break,
                Some(&missing) if Instant::now() > deadline => break 'signal Some((missing, false)),
                Some(_) => std::thread::yield_now(),
            }
        }
        // Threads created meanwhile by now-parked threads: one more pass signals them.
        if new == 0 {
            break None;
        }
    };
    if let Some((missing, listing)) = failure {
        scratch.parked = std::mem::take(&mut stopped.parked);
        drop(stopped);
        return Err(if listing {
            format!("could not list this process's threads (/proc/self/task), or more than {MAX_THREADS}")
        } else {
            format!(
                "thread {missing} did not stop within {} ms (it may block signals or be in an uninterruptible wait)",
                timeout.as_millis()
            )
        });
    }
    let n = SLOT_NEXT.load(Ordering::SeqCst).min(MAX_THREADS);
    for s in &SLOTS[..n] {
        if s.round.load(Ordering::Acquire) == round {
            stopped.parked.push(Parked { tid: s.tid.load(Ordering::Relaxed), pc: s.pc.load(Ordering::Relaxed), sp: s.sp.load(Ordering::Relaxed) });
        }
    }
    Ok(stopped)
}

impl Stopped {
    /// Releases the threads and hands the buffer back for the next round.
    pub(crate) fn finish(mut self, scratch: &mut Scratch) {
        scratch.parked = std::mem::take(&mut self.parked);
        // Drop releases.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    #[test]
    fn stops_and_resumes_spinning_threads() {
        let run = Arc::new(AtomicBool::new(true));
        let counters: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let handles: Vec<_> = counters
            .iter()
            .map(|c| {
                let (c, run) = (c.clone(), run.clone());
                std::thread::spawn(move || {
                    while run.load(Ordering::Relaxed) {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let mut scratch = Scratch::new();
        for _ in 0..20 {
            let stopped = stop_others(&mut scratch, Duration::from_secs(10)).expect("threads stop");
            assert!(stopped.parked.len() >= 3, "parked {}", stopped.parked.len());
            let before: Vec<usize> = counters.iter().map(|c| c.load(Ordering::SeqCst)).collect();
            std::thread::sleep(Duration::from_millis(2));
            let after: Vec<usize> = counters.iter().map(|c| c.load(Ordering::SeqCst)).collect();
            assert_eq!(before, after, "a parked thread kept running");
            for p in &stopped.parked {
                assert_ne!(p.pc, 0);
                assert_ne!(p.sp, 0);
            }
            stopped.finish(&mut scratch);
        }
        // Every thread runs again (generous deadline: the machine is shared, other tests stop threads too).
        let before: Vec<usize> = counters.iter().map(|c| c.load(Ordering::SeqCst)).collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        while counters.iter().zip(&before).any(|(c, &b)| c.load(Ordering::SeqCst) == b) {
            assert!(Instant::now() < deadline, "a thread did not resume");
            std::thread::sleep(Duration::from_millis(5));
        }
        run.store(false, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap();
        }
    }
}
