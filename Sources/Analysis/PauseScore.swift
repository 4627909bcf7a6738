/// A pause known to have happened (injected by a test program, or logged by the runtime itself).
public struct KnownPause: Codable, Sendable, Hashable {
    /// The process, or nil to match a detected pause of any process.
    public var pid: Int32?
    public var startNs: UInt64
    public var endNs: UInt64

    public init(pid: Int32? = nil, startNs: UInt64, endNs: UInt64) {
        self.pid = pid
        self.startNs = startNs
        self.endNs = max(startNs, endNs)
    }

    public var durationNs: UInt64 { endNs - startNs }
}

/// How well detected pauses agree with known ones: recall, precision and the median duration error.
///
/// **Matching.** A detected pause and a known one may match when they belong to the same process
/// (unless the known pause has no pid) and their intervals overlap by at least `minOverlapFraction`
/// of the shorter of the two: a detection that covers half of a short pause, or lies mostly inside a
/// long one, counts; one that only grazes it does not. Each pause matches at most once. Admissible
/// pairs are taken greedily, largest overlap first (ties: smaller start difference, then earlier
/// known pause). Pauses of one process do not overlap each other, so a pause can only be admissible
/// with its neighbours in the other list, and the greedy choice is the maximum matching in practice.
///
/// **Figures.** With m matches among k known and d detected pauses, recall = m / k and precision =
/// m / d; each is 1 when its denominator is 0 (nothing to find, nothing claimed). The duration error
/// of a match is |detected duration − known duration|; `medianDurationErrorNs` is the median over the
/// matches (the mean of the two middle values when m is even), nil without matches. The start error
/// |detected start − known start| is summarised the same way.
public struct PauseScore: Sendable, Equatable {
    public struct Match: Sendable, Equatable {
        /// Index into the known pauses.
        public var known: Int
        /// Index into the detected pauses.
        public var detected: Int
        public var overlapNs: UInt64

        public init(known: Int, detected: Int, overlapNs: UInt64) {
            self.known = known
            self.detected = detected
            self.overlapNs = overlapNs
        }
    }

    public let knownCount: Int
    public let detectedCount: Int
    /// By known pause.
    public let matches: [Match]
    public let recall: Double
    public let precision: Double
    public let medianDurationErrorNs: UInt64?
    public let medianStartErrorNs: UInt64?

    public init(detected: [DetectedPause], known: [KnownPause], minOverlapFraction: Double = 0.5) {
        var candidates: [(match: Match, startErrorNs: UInt64)] = []
        for (k, truth) in known.enumerated() {
            for (d, pause) in detected.enumerated() where truth.pid == nil || truth.pid == pause.pid {
                let overlapStart = max(truth.startNs, pause.startNs), overlapEnd = min(truth.endNs, pause.endNs)
                guard overlapEnd > overlapStart else { continue }
                let overlap = overlapEnd - overlapStart
                guard Double(overlap) >= minOverlapFraction * Double(min(truth.durationNs, pause.durationNs))
                else { continue }
                candidates.append((Match(known: k, detected: d, overlapNs: overlap),
                                   absoluteDifference(truth.startNs, pause.startNs)))
            }
        }
        candidates.sort {
            ($1.match.overlapNs, $0.startErrorNs, $0.match.known) < ($0.match.overlapNs, $1.startErrorNs, $1.match.known)
        }
        var knownTaken = Set<Int>(), detectedTaken = Set<Int>()
        var matches: [Match] = []
        for candidate in candidates
        where !knownTaken.contains(candidate.match.known) && !detectedTaken.contains(candidate.match.detected) {
            matches.append(candidate.match)
            knownTaken.insert(candidate.match.known)
            detectedTaken.insert(candidate.match.detected)
        }
        matches.sort { $0.known < $1.known }

        knownCount = known.count
        detectedCount = detected.count
        self.matches = matches
        recall = known.isEmpty ? 1 : Double(matches.count) / Double(known.count)
        precision = detected.isEmpty ? 1 : Double(matches.count) / Double(detected.count)
        medianDurationErrorNs = median(matches.map {
            absoluteDifference(known[$0.known].durationNs, detected[$0.detected].durationNs)
        })
        medianStartErrorNs = median(matches.map {
            absoluteDifference(known[$0.known].startNs, detected[$0.detected].startNs)
        })
    }
}

func absoluteDifference(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }

/// The median: the middle value, or the mean of the two middle ones (rounded down); nil when empty.
func median(_ values: [UInt64]) -> UInt64? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let upper = sorted[sorted.count / 2]
    guard sorted.count % 2 == 0 else { return upper }
    let lower = sorted[sorted.count / 2 - 1]
    return lower + (upper - lower) / 2
}
