/// FNV-1a, 64 bits: a hash that is the same in every process and on every run (Swift's Hasher is
/// seeded per process), for seeds and digests — not for security.
public enum FNV1a {
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    public static func hash(_ text: String) -> UInt64 { hash(text.utf8) }

    /// `fnv1a64:` and the hash in 16 hex digits.
    public static func digest(_ bytes: some Sequence<UInt8>) -> String {
        let hex = String(hash(bytes), radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
