//! The WebAssembly boundary shared by the server's wasm modules (`debuginfo/`, `rsx-templates/`):
//! the host allocates an input buffer with `wasm_alloc`, writes bytes into it and calls an entry
//! point, which frees the input and returns a result block `[u32 little-endian length][bytes]`; the
//! host reads it and frees it with `wasm_free_result` (server/src/support/wasm-module.ts). No
//! imports, no globals besides the allocator: a trap (a bug) costs the host only that instance.

use std::alloc::{alloc, dealloc, Layout};

/// A buffer of `len` bytes for the host to fill (align 8, so that object files can be read in place).
#[no_mangle]
pub extern "C" fn wasm_alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return std::ptr::NonNull::<u64>::dangling().as_ptr() as *mut u8;
    }
    unsafe { alloc(Layout::from_size_align(len, 8).expect("layout")) }
}

/// Frees a buffer from `wasm_alloc`.
#[no_mangle]
pub extern "C" fn wasm_free(ptr: *mut u8, len: usize) {
    if len != 0 {
        unsafe { dealloc(ptr, Layout::from_size_align(len, 8).expect("layout")) }
    }
}

/// Frees a result block returned by an entry point.
#[no_mangle]
pub extern "C" fn wasm_free_result(ptr: *mut u8) {
    let len = unsafe { u32::from_le_bytes(*(ptr as *const [u8; 4])) } as usize;
    wasm_free(ptr, len + 4);
}

/// Takes ownership of an input buffer the host filled.
pub fn take_input(ptr: *mut u8, len: usize) -> InputBuffer {
    InputBuffer { ptr, len }
}

pub struct InputBuffer {
    ptr: *mut u8,
    len: usize,
}

impl InputBuffer {
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for InputBuffer {
    fn drop(&mut self) {
        wasm_free(self.ptr, self.len);
    }
}

/// Hands `bytes` to the host as a result block.
pub fn result(bytes: &[u8]) -> *mut u8 {
    let block = wasm_alloc(bytes.len() + 4);
    unsafe {
        std::ptr::copy_nonoverlapping((bytes.len() as u32).to_le_bytes().as_ptr(), block, 4);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), block.add(4), bytes.len());
    }
    block
}
