//! Random bytes from the operating system (`getrandom`): cache-busters, pixel ids and salts.

/// 64 random bits.
pub fn u64() -> Result<u64, getrandom::Error> {
    Ok(u64::from_le_bytes(bytes::<8>()?))
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}
