import Analysis
import XCTest

/// Synthetic RSS timelines with known growth, recorded as the memory probe records them (a point
/// whenever RSS moved by max(64 KiB, RSS/128) since the last point): a GC sawtooth must not be a
/// leak, a slow leak under it must be, with its rate.
final class LeakDetectorTests: XCTestCase {
    let detector = LeakDetector()
    static let mb = 1_048_576.0
    static let second: UInt64 = 1_000_000_000

    func testFlatWithNoiseIsNoLeak() {
        var noise = Noise(seed: 1)
        let timeline = recorded(seconds: 60) { _ in 200 * Self.mb + noise.next(4 * Self.mb) }
        let verdict = detect(timeline, seconds: 60)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertNil(verdict.reason)
        XCTAssertLessThan(abs(verdict.growthBytesPerS), 4096)
    }

    /// Grows 50 MiB over 2 s, is collected back to 100 MiB, for 60 s: 24 troughs after the warm-up, all
    /// at 100 MiB, so the floor's slope is exactly 0.
    func testGCSawtoothIsNoLeak() {
        let timeline = recorded(seconds: 60) { ns in 100 * Self.mb + 25 * Self.mb * Self.phase(ns, period: 2) }
        let verdict = detect(timeline, seconds: 60)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertEqual(verdict.method, "theil-sen on rss floor (troughs) + mann-kendall")
        XCTAssertEqual(verdict.samples, 24)
        XCTAssertEqual(verdict.growthBytesPerS, 0)
        XCTAssertEqual(verdict.ci95BytesPerS, [0, 0])
    }

    /// The same, with each collection leaving a different amount (±1 MiB) behind.
    func testGCSawtoothWithJitteredTroughsIsNoLeak() {
        var noise = Noise(seed: 2)
        let jitter = (0..<31).map { _ in noise.next(1 * Self.mb) }
        let timeline = recorded(seconds: 60) { ns in
            100 * Self.mb + jitter[Int(ns / (2 * Self.second))] + 25 * Self.mb * Self.phase(ns, period: 2)
        }
        let verdict = detect(timeline, seconds: 60)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertEqual(verdict.method, "theil-sen on rss floor (troughs) + mann-kendall")
        XCTAssertLessThan(verdict.ci95BytesPerS[0], 0)
        XCTAssertGreaterThan(verdict.ci95BytesPerS[1], 0)
    }

    /// 100 KiB/s leaking under the sawtooth (and ±256 KiB of jitter in what each collection leaves):
    /// the troughs rise 200 KiB a cycle while the peaks swing 50 MiB.
    func testSlowLeakUnderASawtoothIsALeak() {
        var noise = Noise(seed: 3)
        let jitter = (0..<31).map { _ in noise.next(0.25 * Self.mb) }
        let leak = 100 * 1024.0
        let timeline = recorded(seconds: 60) { ns in
            let cycle = ns / (2 * Self.second)
            let base = 100 * Self.mb + leak * Double(cycle * 2) + jitter[Int(cycle)]
            return base + 25 * Self.mb * Self.phase(ns, period: 2)
        }
        let verdict = detect(timeline, seconds: 60)
        XCTAssertTrue(verdict.leakSuspected)
        XCTAssertEqual(verdict.method, "theil-sen on rss floor (troughs) + mann-kendall")
        XCTAssertEqual(verdict.growthBytesPerS, leak, accuracy: 0.1 * leak)
        XCTAssertLessThanOrEqual(verdict.ci95BytesPerS[0], leak)
        XCTAssertGreaterThanOrEqual(verdict.ci95BytesPerS[1], leak)
    }

    /// 1 MiB/s from 50 MiB, no collections: the floor is the bins' minima.
    func testLinearLeakIsALeakWithItsRate() {
        let timeline = recorded(seconds: 60) { ns in 50 * Self.mb + Self.mb * Double(ns) / 1e9 }
        let verdict = detect(timeline, seconds: 60)
        XCTAssertTrue(verdict.leakSuspected)
        XCTAssertEqual(verdict.method, "theil-sen on rss floor (bin minima) + mann-kendall")
        XCTAssertEqual(verdict.samples, 20)
        XCTAssertEqual(verdict.growthBytesPerS, Self.mb, accuracy: 0.01 * Self.mb)
        XCTAssertLessThan(verdict.ci95BytesPerS[0], verdict.ci95BytesPerS[1])
    }

    /// One jump of 60 MiB at 30 s, flat (with noise) before and after. The whole floor rises
    /// significantly — the interval is above zero and Mann–Kendall's p tiny — but the first half of
    /// the floor is flat: a step is not a sustained growth, so it is not a leak. Without the
    /// sustained-growth rule (`minSustainedFraction = -∞`) it would be flagged.
    func testASingleStepIsNoLeak() {
        var noise = Noise(seed: 4)
        let timeline = recorded(seconds: 60) { ns in
            (ns < 30 * Self.second ? 200 * Self.mb : 260 * Self.mb) + noise.next(2 * Self.mb)
        }
        let verdict = detect(timeline, seconds: 60)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertEqual(verdict.method, "theil-sen on rss floor (bin minima) + mann-kendall")
        XCTAssertGreaterThan(verdict.ci95BytesPerS[0], 0)
        var unsustained = LeakDetector()
        unsustained.minSustainedFraction = -.infinity
        XCTAssertTrue(unsustained.detect(timeline, startNs: 0, endNs: 60 * Self.second).leakSuspected)
    }

    /// A clean step early in the window (no noise): most pairs of floor points lie on one level, so
    /// the Theil–Sen slope itself is 0.
    func testAnEarlyStepIsNoLeak() {
        let timeline: [(ns: UInt64, bytes: UInt64)] = [(0, 100 << 20), (20 * Self.second, 160 << 20)]
        let verdict = detect(timeline, seconds: 60)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertNil(verdict.reason)
        XCTAssertEqual(verdict.growthBytesPerS, 0)
    }

    /// Only the points at which RSS changed, with long silences between: the value holds, and the
    /// verdict and the rate are those of the same process sampled every 10 ms.
    func testEventDrivenPointsGiveTheSameAnswerAsDenseSampling() {
        // 1 MiB more every 2 s, in one step, from 64 MiB: 512 KiB/s.
        let rss: (UInt64) -> Double = { ns in 64 * Self.mb + Self.mb * Double(ns / (2 * Self.second)) }
        let dense = stride(from: UInt64(0), through: 60 * Self.second, by: 10_000_000).map { (ns: $0, bytes: UInt64(rss($0))) }
        let events = recorded(seconds: 60, rss)
        XCTAssertEqual(events.count, 31)
        let fromDense = detect(dense, seconds: 60), fromEvents = detect(events, seconds: 60)
        XCTAssertTrue(fromEvents.leakSuspected)
        XCTAssertEqual(fromEvents, fromDense)
        XCTAssertEqual(fromEvents.growthBytesPerS, Self.mb / 2, accuracy: 0.05 * Self.mb / 2)
    }

    /// A flat process recorded once, before the window: its value holds throughout.
    func testAPointBeforeTheWindowHoldsThroughIt() {
        let verdict = detector.detect([(ns: 1, bytes: 64 << 20)], startNs: 10 * Self.second, endNs: 70 * Self.second)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertNil(verdict.reason)
        XCTAssertEqual(verdict.samples, 20)
        XCTAssertEqual(verdict.growthBytesPerS, 0)
    }

    func testTooLittleDataGivesAReason() throws {
        let leak = recorded(seconds: 60) { ns in 50 * Self.mb + Self.mb * Double(ns) / 1e9 }
        // 2.4 s of which 20% is warm-up: 1.9 s left.
        let short = detector.detect(leak, startNs: 0, endNs: 2_400_000_000)
        XCTAssertFalse(short.leakSuspected)
        XCTAssertEqual(short.reason, "the window after the warm-up lasts 1.9 s; at least 2.0 s is needed")
        XCTAssertEqual(short.samples, 0)

        let empty = detector.detect([], startNs: 0, endNs: 60 * Self.second)
        XCTAssertEqual(empty.reason, "no RSS point in the window")
        XCTAssertFalse(empty.leakSuspected)

        // A sawtooth with a 12 s period leaves four collections after the warm-up: four troughs.
        let slow = recorded(seconds: 60) { ns in 100 * Self.mb + 5 * Self.mb * Self.phase(ns, period: 12) }
        let verdict = detect(slow, seconds: 60)
        XCTAssertFalse(verdict.leakSuspected)
        XCTAssertEqual(verdict.samples, 4)
        XCTAssertEqual(verdict.reason, "4 floor points (troughs (one per GC drop)); at least 8 are needed")
        XCTAssertEqual(verdict.method, "theil-sen on rss floor (troughs) + mann-kendall")
    }

    // MARK: Helpers

    private func detect(_ timeline: [(ns: UInt64, bytes: UInt64)], seconds: UInt64) -> LeakVerdict {
        detector.detect(timeline, startNs: 0, endNs: seconds * Self.second)
    }

    /// Where `ns` is in a cycle of `period` seconds, from 0 to just under `period`, in seconds.
    static func phase(_ ns: UInt64, period: UInt64) -> Double {
        Double(ns % (period * second)) / 1e9
    }

    /// `rss(ns)` evaluated every 5 ms over [0, seconds], kept as the probe keeps it: the first value,
    /// then each value that moved at least max(64 KiB, RSS/128) from the last one kept.
    private func recorded(seconds: UInt64, _ rss: (UInt64) -> Double) -> [(ns: UInt64, bytes: UInt64)] {
        var points: [(ns: UInt64, bytes: UInt64)] = []
        for ns in stride(from: UInt64(0), through: seconds * Self.second, by: 5_000_000) {
            let bytes = UInt64(rss(ns))
            if let last = points.last?.bytes {
                let moved = bytes > last ? bytes - last : last - bytes
                guard moved >= max(64 << 10, last / 128) else { continue }
            }
            points.append((ns, bytes))
        }
        return points
    }
}

/// Uniform noise in [−amplitude, amplitude) from a fixed seed (SplitMix64).
private struct Noise {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(_ amplitude: Double) -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) / Double(1 << 53) * 2 - 1) * amplitude
    }
}
