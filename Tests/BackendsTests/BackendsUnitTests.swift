import ArchbenchCore
@testable import Backends
import NIOCore
import XCTest

/// The library's pure parts, in process.
final class BackendsUnitTests: XCTestCase {
    func testSplitMix64MatchesTheReferenceSequence() {
        // The first outputs for seed 0 of Vigna's splitmix64.c.
        var rng = SplitMix64(seed: 0)
        XCTAssertEqual(rng.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(rng.next(), 0x6E78_9E6A_A1B9_65F4)
    }

    func testTrainingIsDeterministicAndLearns() {
        let job = TrainingJob(samples: 1_000, features: 8, epochs: 1, learningRate: 0.1, seed: 3)
        let once = job.run()
        XCTAssertEqual(once.loss, job.run().loss, "same seed, same loss")
        var longer = job
        longer.epochs = 30
        let trained = longer.run()
        XCTAssertLessThan(trained.loss, once.loss, "more epochs fit better")
        XCTAssertLessThan(trained.loss, 0.69, "better than chance, log 2")
        XCTAssertGreaterThan(trained.accuracy, 0.75)
        var pauses = 0
        _ = longer.run { pauses += 1 }
        XCTAssertEqual(pauses, 30, "a safepoint every epoch")
    }

    func testFaultPlanTargetsServices() throws {
        let plan = try FaultPlan.parse(FaultFlags(leakBytesPerRequest: "users:4096", pauseEveryMs: "orders:100",
                                                  pauseMs: "orders:10", slowMs: "250", slowPath: "/train/",
                                                  errorRate: "ws:0.5"), servicePrefixes: true)
        XCTAssertEqual(plan.spec(for: .users).leakBytesPerRequest, 4096)
        XCTAssertEqual(plan.spec(for: .orders).pauseEveryMs, 100)
        XCTAssertEqual(plan.spec(for: .orders).pauseMs, 10)
        XCTAssertEqual(plan.spec(for: .gateway).slowMs, 250, "no prefix: the gateway")
        XCTAssertEqual(plan.spec(for: .gateway).slowPath, "/train")
        XCTAssertEqual(plan.spec(for: .ws).errorRate, 0.5)
        XCTAssertTrue(plan.spec(for: .training).isEmpty)
        XCTAssertEqual(plan.spec(for: .orders).arguments, ["--pause-every-ms", "100", "--pause-ms", "10"])
    }

    func testSlowPathCoversItsSubtreeOnly() {
        var spec = FaultSpec()
        spec.slowMs = 10
        spec.slowPath = "/api/users"
        XCTAssertTrue(spec.isSlow("/api/users"))
        XCTAssertTrue(spec.isSlow("/api/users/3"))
        XCTAssertFalse(spec.isSlow("/api/usersX"))
        XCTAssertFalse(spec.isSlow("/api/items"))
    }

    func testGatewayRoutesEachPathToItsService() {
        func owner(_ uri: String) -> ServiceName? { GatewayRoute.owner(of: BackendRequest(method: .GET, uri: uri)) }
        XCTAssertEqual(owner("/api/users"), .users)
        XCTAssertEqual(owner("/api/items?limit=3"), .users)
        XCTAssertEqual(owner("/api/orders/4"), .orders)
        XCTAssertEqual(owner("/train"), .training)
        XCTAssertNil(owner("/health"))
        XCTAssertNil(owner("/api/ordersX"))
    }
}
