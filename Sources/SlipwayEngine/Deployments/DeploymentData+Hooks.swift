import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// `hooks:` — commands run in the release's directory against the new instances or the router.
extension DeploymentData {
    /// `hooks.pre_traffic`, against one of the new instances (`SLIPWAY_TARGET_URL`) before any user request
    /// reaches them. Returns why it failed, or nil when it passed or there is none.
    func preTrafficHook<S: DeploymentSteps>(_ d: DeploymentInfo, _ job: DeploymentJob, targets: [InstanceRecord], log: DeployLog,
                                            on steps: isolated S) async throws(SlipwayError) -> String? {
        guard let command = job.env.hooks.preTraffic, let first = targets.first else { return nil }
        return try await runHook("pre_traffic", command, d, job, target: "http://127.0.0.1:\(first.port)", log: log, on: steps)
    }

    /// `hooks.post_switch`, against the router (`SLIPWAY_TARGET_URL`, with the route's path; on an address
    /// environments share, `SLIPWAY_TARGET_HOST` is the `Host` to send) after the switch, while the previous
    /// release is still warm. Returns why it failed, or nil.
    func postSwitchHook<S: DeploymentSteps>(_ d: DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) -> String? {
        guard let command = job.env.hooks.postSwitch else { return nil }
        let listen = job.env.router.listen
        let host = listen.host == "0.0.0.0" || listen.host == "::" ? "127.0.0.1" : listen.host
        let route = job.env.router.route
        let target = "http://\(host.contains(":") ? "[\(host)]" : host):\(listen.port)" + (route?.path ?? "")
        return try await runHook("post_switch", command, d, job, target: target, host: route?.hosts.first { !$0.hasPrefix("*.") }, log: log, on: steps)
    }

    private func runHook<S: DeploymentSteps>(_ name: String, _ command: String, _ d: DeploymentInfo, _ job: DeploymentJob, target: String,
                                             host: String? = nil, log: DeployLog, on steps: isolated S) async throws(SlipwayError) -> String? {
        steps.note(d, "\(name) hook against \(target): \(command)", log: log)
        var extra = ["SLIPWAY_TARGET_URL": target, "SLIPWAY_HOOK": name]
        if let host { extra["SLIPWAY_TARGET_HOST"] = host }
        let status = try await runInRelease(command, app: job.config.app, env: job.env, release: d.version, extra: extra,
                                            timeout: job.env.hooks.timeout, log: log)
        guard status != 0 else {
            steps.note(d, "\(name) hook passed", log: log)
            return nil
        }
        let why = status == 124 ? "did not finish within \(DurationParsing.format(job.env.hooks.timeout))" : "exited with status \(status)"
        return "the \(name) hook \(why)\n" + ProcessPipeline.tail(log.path, lines: 12)
    }
}
