//! Memory that the kernel really charges: a large allocation is only mapped address space
//! (zero pages on demand) until its pages are written, so a container's memory limit is never
//! hit by allocating alone. Each page gets a write.

/// Bytes between two writes: the smallest page size Linux uses.
const PAGE: usize = 4096;

/// Allocates `mib` MiB and writes one byte on every page, so all of it is resident.
pub fn touch(mib: usize) -> Vec<u8> {
    // Zeroed memory this large comes straight from mmap: nothing is resident yet.
    let mut buf = vec![0u8; mib << 20];
    for (i, byte) in buf.iter_mut().step_by(PAGE).enumerate() {
        // A value the optimiser cannot predict, so no store is dropped.
        *byte = std::hint::black_box(i as u8) | 1;
    }
    std::hint::black_box(&buf);
    buf
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_page_is_written() {
        let held = super::touch(8);
        assert_eq!(held.len(), 8 << 20);
        assert!(held.iter().step_by(super::PAGE).all(|b| *b != 0));
    }
}
