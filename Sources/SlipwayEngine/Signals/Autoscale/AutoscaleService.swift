import Logging
import ServiceLifecycle
import SlipwayCore

/// A scale autoscaling decided on: the environment and its new instance count.
struct AutoscaleJob: Sendable {
    var environment: String
    var instances: Int
}

/// Runs the scales autoscaling decides on, each in a child task of this Service's task group (not a loose
/// `Task`): on graceful shutdown nothing new starts and a scale under way finishes its health-gated step.
public struct AutoscaleService: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        let engine = engine
        await engine.signals.autoscaleRuns.serve { job in await engine.runAutoscale(job) }
    }
}

extension Engine {
    /// One scale autoscaling decided on (from `AutoscaleService`).
    func runAutoscale(_ job: AutoscaleJob) async {
        do { _ = try await scale(ScaleRequest(environment: job.environment, instances: job.instances, actor: "autoscale")) } catch {
            logger.warning("autoscale did not scale", metadata: ["autoscale.env": "\(job.environment)", "error": "\(error)"])
        }
        await signals.autoscaleEnded(job.environment)
    }
}
