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
        func run(_ indices: [Int], _ r: HostActivateRequest) async -> [Result<HostActivation, SlipwayError>] {
            await concurrently(indices, limit: maxParallel) { [app, settings] i async -> Result<HostActivation, SlipwayError> in
                do throws(SlipwayError) { return .success(try await hosts[i].activate(app: app, r, deadline: settings.healthyDeadline)) }
                catch { return .failure(error) }
            }
        }
        guard dataOnce else { return (batch, await run(batch, request(skipData: false))) }
        guard first, let dataHost = batch.first else { return (batch, await run(batch, request(skipData: true))) }
        log("  \(hosts[dataHost].name): the data steps (backup, migrations) run here, once, before the other hosts switch")
        let firstResult = await run([dataHost], request(skipData: false))
        guard case .success(let a) = firstResult.first, a.succeeded else { return ([dataHost], firstResult) }
        let rest = Array(batch.dropFirst())
        return (batch, firstResult + (rest.isEmpty ? [] : await run(rest, request(skipData: true))))
    }
}
