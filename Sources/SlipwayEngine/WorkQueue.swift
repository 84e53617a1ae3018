import ServiceLifecycle
import SlipwayCore
import Synchronization

/// Hands accepted work (deployments, webhook builds) to the Service that runs it, and tells it when the daemon
/// is stopping: after `stop()` nothing new is accepted and the Service's loop ends once the queue is drained.
final class WorkQueue<Job: Sendable>: Sendable {
    let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    private let stopping = Atomic<Bool>(false)

    init() {
        (jobs, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    func submit(_ job: Job) -> Bool {
        guard !isStopping else { return false }
        if case .enqueued = continuation.yield(job) { return true }
        return false
    }

    /// Graceful shutdown: no new job starts; running ones stop at their next step boundary.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        continuation.finish()
    }

    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// A Service's `run()`: performs each job in its own child task until graceful shutdown stops the queue. Jobs
    /// under way then finish, or with `cancelRunning` are cancelled.
    func serve(cancelRunning: Bool = false, _ perform: @escaping @Sendable (Job) async -> Void) async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await job in jobs { group.addTask { await perform(job) } }
                if cancelRunning { group.cancelAll() }
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }
}

typealias DeploymentQueue = WorkQueue<DeploymentJob>
