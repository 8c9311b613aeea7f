//! Discovery and the allocator. Each stage builds arrays of tens of
//! megabytes and drops them before the next; with glibc's defaults many of
//! them land in the heap (its mapping threshold rises to the size of the
//! largest block freed, up to 32 MiB), where freed space stays with the
//! process, so its footprint grows by what earlier stages used rather than
//! by what it holds. These helpers keep large blocks mapped (handed back
//! whole when freed) and return freed heap pages between stages. Elsewhere
//! they do nothing.

/// Blocks from this size on are mapped on their own.
const MAP_FROM: usize = 256 << 10;

/// Has glibc map every block of [`MAP_FROM`] or more on its own, for the
/// rest of the process (a fixed threshold instead of the rising one).
pub fn map_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt takes no pointers and only sets an allocator
    // parameter; glibc serialises it against allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM as libc::c_int);
    }
}

/// Hands memory freed by the stage just finished back to the system.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim takes no pointers and only returns free pages of
    // the allocator's own heaps to the kernel; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
