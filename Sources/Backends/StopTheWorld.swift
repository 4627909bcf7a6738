import Atomics
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A garbage collector's stop-the-world pause, made on purpose.
///
/// A collector thread wakes every `every` (start to start, on an absolute schedule, so pauses do not
/// drift), raises the `paused` flag and sends a parking task to every event loop of the server. Each
/// loop runs it as soon as its current work is done (the loop's safepoint) and blocks in it. Once
/// every loop is parked (or after a second, should one be stuck), the collector churns memory,
/// allocating, writing and freeing blocks, for `length`, then releases them all. Training threads,
/// which do not run on event loops, call `safepoint()` between epochs and block the same way.
///
/// From outside, any request that arrives during a pause is answered only when it ends: a client
/// timing sequential requests sees stalls of `length` every `every`.
final class StopTheWorld: Sendable {
    let every: TimeAmount
    let length: TimeAmount
    private let loops: [any EventLoop]
    private let paused = ManagedAtomic<Bool>(false)
    /// 1 while a pause holds, 0 otherwise; parked threads wait for 0.
    private let gate = ConditionLock<Int>(value: 0)
    private let parked = ManagedAtomic<Int>(0)
    private let pauses = ManagedAtomic<Int>(0)

    init(everyMs: Int, lengthMs: Int, group: any EventLoopGroup) {
        every = .milliseconds(Int64(everyMs))
        length = .milliseconds(Int64(lengthMs))
        loops = Array(group.makeIterator())
    }

    /// Pauses made so far.
    var count: Int { pauses.load(ordering: .relaxed) }

    /// Starts the collector thread; it lives as long as the process.
    func start() {
        let thread = Thread { [self] in collectForever() }
        thread.name = "ab-collector"
        thread.start()
    }

    /// Blocks the calling thread while a pause holds.
    func safepoint() {
        guard paused.load(ordering: .acquiring) else { return }
        gate.lock(whenValue: 0)
        gate.unlock()
    }

    private func collectForever() {
        var next = NIODeadline.now() + every
        while true {
            sleep(until: next)
            pause()
            next = next + every
            // Never queue up pauses behind a late one: skip the starts already missed.
            while next < NIODeadline.now() { next = next + every }
        }
    }

    private func pause() {
        gate.lock()
        gate.unlock(withValue: 1)
        paused.store(true, ordering: .releasing)
        parked.store(0, ordering: .relaxed)
        for loop in loops {
            loop.execute { [self] in
                parked.wrappingIncrement(ordering: .acquiringAndReleasing)
                safepoint()
            }
        }
        let handshakeLimit = NIODeadline.now() + .seconds(1)
        while parked.load(ordering: .acquiring) < loops.count && NIODeadline.now() < handshakeLimit {
            sched_yield()
        }
        churnMemory(until: NIODeadline.now() + length)
        paused.store(false, ordering: .releasing)
        gate.lock()
        gate.unlock(withValue: 0)
        pauses.wrappingIncrement(ordering: .relaxed)
    }

    /// What a collector does while the world is stopped: walks a working set of blocks, freeing and
    /// reallocating them and writing every byte, until `deadline`.
    private func churnMemory(until deadline: NIODeadline) {
        let blockSize = 64 << 10
        var blocks = [UnsafeMutableRawPointer?](repeating: nil, count: 64)
        var round = 0
        while NIODeadline.now() < deadline {
            let slot = round % blocks.count
            free(blocks[slot])
            blocks[slot] = malloc(blockSize)
            if let block = blocks[slot] { memset(block, Int32(truncatingIfNeeded: round), blockSize) }
            round += 1
        }
        for block in blocks { free(block) }
    }

    private func sleep(until deadline: NIODeadline) {
        while true {
            let left = deadline - NIODeadline.now()
            if left.nanoseconds <= 0 { return }
            var request = timespec(tv_sec: Int(left.nanoseconds / 1_000_000_000),
                                   tv_nsec: Int(left.nanoseconds % 1_000_000_000))
            _ = nanosleep(&request, nil)
        }
    }
}
