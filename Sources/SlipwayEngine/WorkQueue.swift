import SlipwayCore
import Synchronization

/// Hands accepted deployments to `DeploymentService`, and tells running ones that the daemon is stopping.
final class DeploymentQueue: Sendable {
    let jobs: AsyncStream<DeploymentJob>
    private let continuation: AsyncStream<DeploymentJob>.Continuation
    private let stopping = Atomic<Bool>(false)

    init() {
        (jobs, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    func submit(_ job: DeploymentJob) -> Bool {
        guard !isStopping else { return false }
        if case .enqueued = continuation.yield(job) { return true }
        return false
    }

    /// Graceful shutdown: no new deployment starts; running ones stop at their next step boundary.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        continuation.finish()
    }

    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }
}
