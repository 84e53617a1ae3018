import Logging
import ServiceLifecycle
import SlipwayCore

/// Runs in-flight deployments in one task group, as a Service of the daemon's ServiceGroup. On graceful
/// shutdown no new deployment starts and each running one finishes the step it is in, then stops where a
/// state is persisted: the next daemon start (`Deployments.recover`) completes or rolls it back.
public struct DeploymentService: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        let engine = engine
        let deployments = engine.deployments
        await deployments.queue.serve { job in await RequestOrigin.$current.withValue(job.origin) { await deployments.execute(job) } }
    }
}
