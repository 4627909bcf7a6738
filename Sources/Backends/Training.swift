import ArchbenchCore
import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One training job: logistic regression fitted by stochastic gradient descent on synthetic data.
/// Everything is derived from `seed`, so a job gives the same loss in any process.
public struct TrainingJob: Equatable, Sendable {
    public static let limits = (samples: 1...100_000, features: 1...256, epochs: 1...1_000)
    /// samples × features: the data set is held in memory as doubles (32 MB at most).
    public static let maxDataPoints = 4_000_000
    /// samples × features × epochs: bounds a job's CPU time (the answer's `train_ms` shows what a
    /// job took).
    public static let maxWork = 200_000_000

    public var samples = 1_000
    public var features = 16
    public var epochs = 10
    public var learningRate = 0.1
    public var seed = 42

    public init(samples: Int = 1_000, features: Int = 16, epochs: Int = 10, learningRate: Double = 0.1, seed: Int = 42) {
        self.samples = samples
        self.features = features
        self.epochs = epochs
        self.learningRate = learningRate
        self.seed = seed
    }
}

/// What a finished job answers with.
public struct TrainedModel: Codable, Equatable, Sendable {
    public var modelId: String
    public var finalLoss: Double
    public var accuracy: Double
    public var samples: Int
    public var features: Int
    public var epochs: Int
    public var trainMs: Double
}

extension TrainingJob {
    /// Runs the job. The data: x uniform in [-1, 1]^features, true weights standard normal, and each
    /// label 1 with probability sigmoid(2·w*·x), so the classes overlap and the loss stays above 0.
    /// The fit: one SGD step per sample per epoch, samples shuffled each epoch. `safepoint` is called
    /// between epochs, where a stop-the-world pause can hold the job. The result is the mean log loss
    /// over the whole data set after the last epoch, and the accuracy at threshold 0.5.
    func run(safepoint: () -> Void = {}) -> (loss: Double, accuracy: Double) {
        var rng = SplitMix64(seed: UInt64(bitPattern: Int64(seed)))
        let truth = (0..<features).map { _ in rng.gaussian() }
        var x = [Double](repeating: 0, count: samples * features)
        var y = [Double](repeating: 0, count: samples)
        for i in 0..<samples {
            var logit = 0.0
            for j in 0..<features {
                let value = rng.unit() * 2 - 1
                x[i * features + j] = value
                logit += truth[j] * value
            }
            y[i] = rng.unit() < sigmoid(2 * logit) ? 1 : 0
        }

        var weights = [Double](repeating: 0, count: features)
        var bias = 0.0
        var order = Array(0..<samples)
        x.withUnsafeBufferPointer { x in
            weights.withUnsafeMutableBufferPointer { w in
                for _ in 0..<epochs {
                    safepoint()
                    order.shuffle(using: &rng)
                    for i in order {
                        let row = i * features
                        var z = bias
                        for j in 0..<features { z += w[j] * x[row + j] }
                        let step = learningRate * (sigmoid(z) - y[i])
                        for j in 0..<features { w[j] -= step * x[row + j] }
                        bias -= step
                    }
                }
            }
        }

        var loss = 0.0
        var correct = 0
        for i in 0..<samples {
            var z = bias
            for j in 0..<features { z += weights[j] * x[i * features + j] }
            let p = min(max(sigmoid(z), 1e-12), 1 - 1e-12)
            loss -= y[i] * log(p) + (1 - y[i]) * log(1 - p)
            if (p >= 0.5) == (y[i] == 1) { correct += 1 }
        }
        return (loss / Double(samples), Double(correct) / Double(samples))
    }

    private func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
}

/// The body of `POST /train`; every field is optional.
struct TrainingRequestBody: Decodable {
    var samples: JSONField?
    var features: JSONField?
    var epochs: JSONField?
    var learningRate: JSONField?
    var seed: JSONField?

    /// The job, or a 422 naming the first bad field.
    func job() throws(Rejection) -> TrainingJob {
        var job = TrainingJob()
        func integer(_ field: JSONField?, _ name: String, _ range: ClosedRange<Int>) throws(Rejection) -> Int? {
            guard let field else { return nil }
            guard let value = field.integer, range.contains(value) else {
                throw Rejection(.unprocessable("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)", field: name))
            }
            return value
        }
        job.samples = try integer(samples, "samples", TrainingJob.limits.samples) ?? job.samples
        job.features = try integer(features, "features", TrainingJob.limits.features) ?? job.features
        job.epochs = try integer(epochs, "epochs", TrainingJob.limits.epochs) ?? job.epochs
        job.seed = try integer(seed, "seed", 0...Int(Int32.max)) ?? job.seed
        if let learningRate {
            guard let value = learningRate.number, value > 0, value <= 10 else {
                throw Rejection(.unprocessable("learning_rate must be a number above 0 and at most 10", field: "learning_rate"))
            }
            job.learningRate = value
        }
        if job.samples * job.features > TrainingJob.maxDataPoints {
            throw Rejection(.unprocessable("samples × features must be at most \(TrainingJob.maxDataPoints)", field: "samples"))
        }
        if job.samples * job.features * job.epochs > TrainingJob.maxWork {
            throw Rejection(.unprocessable("samples × features × epochs must be at most \(TrainingJob.maxWork)", field: "epochs"))
        }
        return job
    }
}

/// `POST /train`: runs the job on a thread pool (not on an event loop, which would stall every
/// connection it serves) and answers when it is done.
struct TrainingRoute: Route {
    let pool: NIOThreadPool
    let faults: FaultRuntime
    private let nextModel = ManagedAtomic<Int>(0)

    init(pool: NIOThreadPool, faults: FaultRuntime) {
        self.pool = pool
        self.faults = faults
    }

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        guard request.path == "/train" else { return nil }
        guard request.method == .POST else { return eventLoop.makeSucceededFuture(.methodNotAllowed) }
        let job: TrainingJob
        do {
            // An empty body trains the default job.
            job = try (request.body?.readableBytes ?? 0) == 0
                ? TrainingJob() : request.jsonBody(TrainingRequestBody.self).job()
        } catch {
            return eventLoop.makeSucceededFuture(error.response)
        }
        let id = nextModel.wrappingIncrementThenLoad(ordering: .relaxed)
        let faults = self.faults
        return pool.runIfActive(eventLoop: eventLoop) {
            let start = ContinuousClock.now
            let result = job.run(safepoint: faults.safepoint)
            let elapsed = ContinuousClock.now - start
            let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
            return .json(.ok, TrainedModel(modelId: "model-\(id)", finalLoss: result.loss, accuracy: result.accuracy,
                                           samples: job.samples, features: job.features, epochs: job.epochs,
                                           trainMs: ms))
        }
    }
}
