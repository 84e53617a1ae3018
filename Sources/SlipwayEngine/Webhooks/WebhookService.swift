import ServiceLifecycle
import SlipwayCore

/// A verified delivery that matched webhooks: its commit to build and the hooks whose environments get it.
struct WebhookJob: Sendable {
    var delivery: WebhookDelivery
    var ref: String
    var commit: String
    var git: GitProvenance
    var version: String
    var hooks: [WebhookSettings]
    /// Who asked, as the route saw it (roles and request id), for the audit entries the job writes.
    var origin = RequestOrigin.current
    /// Gets the result when the job ends (the answer may have gone already).
    var done: AsyncStream<WebhookResult?>.Continuation
}

/// Runs webhook builds and their deployments' start, as a Service of the daemon's ServiceGroup, so a build
/// outlives the provider's 10-second wait but not the daemon: on graceful shutdown no new delivery is taken
/// (503), and the builds under way are cancelled (their processes killed) and their deliveries forgotten, so
/// the provider's redelivery builds them once the daemon is back.
public struct WebhookService: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        let engine = engine
        // A build can take as long as it likes; the daemon's shutdown cannot: builds under way are cancelled.
        await engine.webhooks.runs.serve(cancelRunning: true) { job in
            let result = await RequestOrigin.$current.withValue(job.origin) { await engine.webhooks.run(job) { request throws(SlipwayError) in try await engine.deployments.startDeployment(request) } }
            job.done.yield(result)
            job.done.finish()
        }
    }
}
