/// Events a family sends one by one through its ring buffer, kept per process as rows of numbers
/// (the recording's timelines: RSS points, TCP events, slow syscalls).
final class ProcessEventRows<Event: BitwiseCopyable> {
    let ringBuffer: String
    private let session: ProbeSession
    private let row: (Event) -> (pid: Int32, row: [UInt64])
    /// The rows delivered so far, by process, in arrival order.
    private(set) var rows: [Int32: [[UInt64]]] = [:]

    init(_ ringBuffer: String, session: ProbeSession, row: @escaping (Event) -> (pid: Int32, row: [UInt64])) {
        self.ringBuffer = ringBuffer
        self.session = session
        self.row = row
    }

    /// Starts gathering the ring buffer (after the load).
    func collect() throws(ProbeError) {
        try session.collect(ringBuffer, as: Event.self)
    }

    /// Moves what was gathered into the rows, without blocking.
    func drain() throws(ProbeError) {
        for event in try session.take(ringBuffer, as: Event.self) {
            let (pid, values) = row(event)
            rows[pid, default: []].append(values)
        }
    }
}
