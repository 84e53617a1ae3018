import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The engine's entry points into feature objects that move instances: each passes the deployments as
/// their `DeploymentSteps`.
extension Engine {
    /// `slipway scale` (`Capacity`, with new instances gated as a deployment's); the environment's status after it.
    public func scale(_ request: ScaleRequest) async throws(SlipwayError) -> EnvironmentStatus {
        let name = try await capacity.scale(request, on: deployments)
        return try await reports.status(of: name)
    }

    /// `slipway down` (`Capacity`): stops environments' instances and removes their listeners; with `all`, the router too.
    public func down(environment: String?, all: Bool, actor: Principal) async throws(SlipwayError) {
        try await capacity.down(environment: environment, all: all, actor: actor)
    }

    /// `slipway maintenance on|pause|resume|off` (`Maintenance`); the environment's status after it.
    public func maintenance(_ request: MaintenanceRequest) async throws(SlipwayError) -> EnvironmentStatus {
        let name = try await maintenanceModes.apply(request)
        return try await reports.status(of: name)
    }
}
