//! Benchmark of entry detours, driven by `npm run bench -- detours` (prints one JSON line).
//!
//! For each N (arguments, default 1000 and 10000): maps N synthetic 16-byte functions
//! (`mov eax, imm32; ret`) far from the mmap area, as an executable is from its patch libraries,
//! starts two threads calling them in a loop, then applies `ROUNDS` "patches": each maps N new
//! versions and detours every function to them. The first patch writes every entry and allocates
//! islands; later ones retarget the islands and rewrite the previous versions' entries (the
//! steady state). Every patch is checked by calling each old entry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const FN_SIZE: usize = 16;
const ROUNDS: usize = 11;

fn map_functions(n: usize, hint: usize, value: u32) -> usize {
    let len = (n * FN_SIZE + 4095) & !4095;
    // SAFETY: a fresh private anonymous mapping.
    let p = unsafe {
        libc::mmap(hint as *mut libc::c_void, len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap failed");
    let base = p as usize;
    for i in 0..n {
        let code: [u8; FN_SIZE] = {
            let mut c = [0xccu8; FN_SIZE];
            c[0] = 0xb8; // mov eax, imm32
            c[1..5].copy_from_slice(&(value + i as u32).to_le_bytes());
            c[5] = 0xc3; // ret
            c
        };
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), (base + i * FN_SIZE) as *mut u8, FN_SIZE) };
    }
    assert_eq!(unsafe { libc::mprotect(p, len, libc::PROT_READ | libc::PROT_EXEC) }, 0);
    base
}

fn call(addr: usize) -> u32 {
    let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(addr) };
    f()
}

fn median(mut xs: Vec<u64>) -> f64 {
    xs.sort_unstable();
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m] as f64
    } else {
        (xs[m - 1] + xs[m]) as f64 / 2.0
    }
}

fn main() {
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        println!("{{\"error\":\"the benchmark's synthetic functions are x86_64 code\"}}");
        return;
    }
    let sizes: Vec<usize> = {
        let a: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
        if a.is_empty() {
            vec![1000, 10000]
        } else {
            a
        }
    };
    let mut out = Vec::new();
    for (k, &n) in sizes.iter().enumerate() {
        // "The executable": low in the address space, > 2 GiB away from the libraries.
        let exe = map_functions(n, 0x2000_0000_0000 + k * 0x1_0000_0000, 1000);
        let run = Arc::new(AtomicBool::new(true));
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let run = run.clone();
                std::thread::spawn(move || {
                    let mut i = t;
                    while run.load(Ordering::Relaxed) {
                        std::hint::black_box(call(exe + (i % n) * FN_SIZE));
                        i += 7;
                    }
                })
            })
            .collect();
        let mut first = (0u64, 0u64, 0u64);
        let (mut steady, mut steady_cpu, mut steady_stop) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let value = 100_000 * (round as u32 + 1);
            let lib = map_functions(n, 0, value);
            let fns: Vec<(usize, usize, usize, usize)> =
                (0..n).map(|i| (exe + i * FN_SIZE, FN_SIZE, lib + i * FN_SIZE, FN_SIZE)).collect();
            let (detoured, micros, cpu, stop, error) = subsecond_agent::detour::bench::detour(&fns);
            assert_eq!(error, None);
            assert_eq!(detoured, n, "round {round}: detoured {detoured} of {n}");
            for i in (0..n).step_by(97) {
                assert_eq!(call(exe + i * FN_SIZE), value + i as u32, "entry {i} not detoured");
            }
            if round == 0 {
                first = (micros, cpu, stop);
            } else {
                steady.push(micros);
                steady_cpu.push(cpu);
                steady_stop.push(stop);
            }
        }
        run.store(false, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        out.push(format!(
            "\"{n}\":{{\"firstPatchMs\":{:.3},\"firstPatchCpuMs\":{:.3},\"firstPatchStopWaitMs\":{:.3},\"laterPatchMs\":{:.3},\"laterPatchCpuMs\":{:.3},\"laterPatchStopWaitMs\":{:.3}}}",
            first.0 as f64 / 1000.0,
            first.1 as f64 / 1000.0,
            first.2 as f64 / 1000.0,
            median(steady) / 1000.0,
            median(steady_cpu) / 1000.0,
            median(steady_stop) / 1000.0
        ));
    }
    println!("{{{}}}", out.join(","));
}
