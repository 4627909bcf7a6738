#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64: a small, fast generator that gives the same sequence from a seed on every platform,
/// so that synthetic data, the backends' jobs and the analysis's resampling can be reproduced.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// Standard normal, by Box–Muller.
    public mutating func gaussian() -> Double {
        let u1 = max(unit(), 0x1.0p-53)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * unit())
    }
}
