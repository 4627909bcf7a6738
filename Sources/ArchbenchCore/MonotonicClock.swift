import CCommon

/// CLOCK_MONOTONIC in nanoseconds, the clock `bpf_ktime_get_ns` reads: the one clock of every
/// timestamp archbench records (CCommon's `ab_monotonic_ns`), for Swift code that imports no C.
public enum MonotonicClock {
    public static var nowNs: UInt64 { ab_monotonic_ns() }
}
