import Foundation
import SlipwayCore

extension Reports {
    /// `GET /v1/traffic?env=E`: the router's requests and failed requests (5xx) per release of `environment` since
    /// the router started (a fleet canary compares its hosts' counts with the others').
    public func traffic(environment: String) async -> [String: RequestCounts] {
        guard let pools = (try? await router.stats())?[environment] else { return [:] }
        return pools.mapValues { CanaryObserver.counts($0) }
    }
}
