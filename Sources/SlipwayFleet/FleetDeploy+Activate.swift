import Foundation
import SlipwayCore

extension FleetDeploy {
    /// Activates `batch` (at most `maxParallel` at once). With `dataOnce`, the first batch's first host goes alone first
    /// and runs the data steps (the backup before the deploy, the migrations) for the whole fleet; the others skip them,
    /// and are not asked at all when it failed. Returns the hosts asked, and each one's answer.
    func activate(_ batch: [Int], first: Bool, hosts: [any FleetHost], epoch: Int64) async -> ([Int], [Result<HostActivation, SlipwayError>]) {
        func request(skipData: Bool) -> HostActivateRequest {
            HostActivateRequest(environment: environment, version: version, deployment: deployment, epoch: epoch, actor: actor,
                                kind: rollbackTo ? .rollback : nil, skipData: skipData ? true : nil)
        }
        guard dataOnce else { return (batch, await activations(batch, request(skipData: false), hosts: hosts)) }
        guard first, let dataHost = batch.first else { return (batch, await activations(batch, request(skipData: true), hosts: hosts)) }
        log("  \(hosts[dataHost].name): the data steps (backup, migrations) run here, once, before the other hosts switch")
        let firstResult = await activations([dataHost], request(skipData: false), hosts: hosts)
        guard case .success(let a) = firstResult.first, a.succeeded else { return ([dataHost], firstResult) }
        let rest = Array(batch.dropFirst())
        return (batch, firstResult + (rest.isEmpty ? [] : await activations(rest, request(skipData: true), hosts: hosts)))
    }

    /// Asks each of `indices` to activate `r` (at most `maxParallel` at once): its answer, or why it could not.
    func activations(_ indices: [Int], _ r: HostActivateRequest, hosts: [any FleetHost]) async -> [Result<HostActivation, SlipwayError>] {
        await concurrently(indices, limit: maxParallel) { [app, settings] i async -> Result<HostActivation, SlipwayError> in
            do throws(SlipwayError) { return .success(try await hosts[i].activate(app: app, r, deadline: settings.healthyDeadline)) }
            catch { return .failure(error) }
        }
    }

    /// Each host's answer in `outcome` and the log. Returns the hosts that failed, and how many served the release
    /// already (no deployment ran there: a resumed deploy's canary, judged before).
    func record(_ indices: [Int], _ results: [Result<HostActivation, SlipwayError>], hosts: [any FleetHost],
                _ outcome: inout FleetOutcome) -> (failed: [Int], unchanged: Int) {
        var failed: [Int] = []
        var unchanged = 0
        for (i, r) in zip(indices, results) {
            switch r {
            case .success(let a):
                if !a.succeeded { failed.append(i) }
                if a.succeeded, a.hostDeployment == nil { unchanged += 1 }
                outcome.hosts[i].state = a.succeeded ? .activated : .failed
                outcome.hosts[i].current = a.current
                outcome.hosts[i].message = a.message
            case .failure(let e):
                // Lost in the middle (a link down, a host gone): what it serves is not known until it answers again.
                failed.append(i)
                outcome.hosts[i].state = e.code == .unavailable ? .unknown : .failed
                outcome.hosts[i].current = nil
                outcome.hosts[i].message = e.message
            }
            log("  \(hosts[i].name): \(outcome.hosts[i].state.rawValue): \(outcome.hosts[i].message)")
        }
        return (failed, unchanged)
    }
}
