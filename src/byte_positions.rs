//! Where a few byte values occur in a text, found a block at a time: the
//! block's bytes are compared all at once (vector compares and a mask
//! move), and each occurrence is a bit of the mask. `memchr` per occurrence paid a call and a fresh search setup at
//! each one: in a log's lines, a line break every hundred bytes and a
//! colon or parenthesis every twenty, that setup was most of the cost.

/// Bytes compared at once: one mask bit each.
const BLOCK: usize = 32;

/// The bits of the bytes of `block` that equal one of `bytes`: SSE2
/// compares of 16 bytes (every x86-64 has them; the compiler's own vectors
/// for the plain loop below widened each byte to 32 bits).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn mask<const N: usize>(block: &[u8; BLOCK], bytes: [u8; N]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    let halves: &[[u8; 16]; 2] = block.as_chunks().0.try_into().unwrap_or(&[[0; 16]; 2]);
    // SAFETY: SSE2 is part of every x86-64 (the target's baseline), and
    // each load reads the 16 bytes of one half of `block` (unaligned
    // loads, which SSE2 allows).
    unsafe {
        let low = _mm_loadu_si128(halves[0].as_ptr().cast::<__m128i>());
        let high = _mm_loadu_si128(halves[1].as_ptr().cast::<__m128i>());
        let (mut low_hits, mut high_hits) = (_mm_setzero_si128(), _mm_setzero_si128());
        for b in bytes {
            let b = _mm_set1_epi8(b as i8);
            low_hits = _mm_or_si128(low_hits, _mm_cmpeq_epi8(low, b));
            high_hits = _mm_or_si128(high_hits, _mm_cmpeq_epi8(high, b));
        }
        (_mm_movemask_epi8(low_hits) as u32 & 0xffff)
            | ((_mm_movemask_epi8(high_hits) as u32) << 16)
    }
}

/// The bits of the bytes of `block` that equal one of `bytes`.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn mask<const N: usize>(block: &[u8; BLOCK], bytes: [u8; N]) -> u32 {
    let mut mask = 0;
    for (i, &b) in block.iter().enumerate() {
        mask |= u32::from(bytes.iter().any(|&x| x == b)) << i;
    }
    mask
}

/// Calls `found` with each place in `text` holding one of `bytes`, in
/// order.
#[inline(always)]
pub(crate) fn each_of<const N: usize>(text: &[u8], bytes: [u8; N], mut found: impl FnMut(usize)) {
    let (blocks, tail) = text.as_chunks::<BLOCK>();
    for (k, block) in blocks.iter().enumerate() {
        let mut bits = mask(block, bytes);
        while bits != 0 {
            found(k * BLOCK + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
    let from = blocks.len() * BLOCK;
    for (i, b) in tail.iter().enumerate() {
        if bytes.contains(b) {
            found(from + i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::each_of;

    /// Every place of the bytes, in blocks and in the tail, at every
    /// alignment, as a plain search finds them.
    #[test]
    fn finds_what_a_plain_search_finds() {
        let text: Vec<u8> = (0..300u32)
            .map(|i| [b'a', b'\n', b':', b'(', 0xff, b'x'][(i * i % 7 % 6) as usize])
            .collect();
        for from in 0..text.len() {
            let text = &text[from..];
            let mut got = Vec::new();
            each_of(text, [b':', b'('], |p| got.push(p));
            let want: Vec<usize> = (0..text.len())
                .filter(|&i| text[i] == b':' || text[i] == b'(')
                .collect();
            assert_eq!(got, want);
            let mut lines = Vec::new();
            each_of(text, [b'\n'], |p| lines.push(p));
            assert_eq!(lines, memchr::memchr_iter(b'\n', text).collect::<Vec<_>>());
        }
    }
}
