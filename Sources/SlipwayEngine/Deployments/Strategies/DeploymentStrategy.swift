import SlipwayCore
import SlipwayStore

/// How a release replaces the serving one. Each strategy is its own type; `rolling` and `canary` are
/// added as new types without touching these. A strategy runs inside the engine's isolation and uses
/// its building blocks (`startAndVerify`, `switchTo`, `restorePrevious`, `retire`, `step`).
protocol DeploymentStrategy: Sendable {
    func run(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, engine: isolated Engine) async throws(SlipwayError)
}

enum Strategies {
    static func named(_ name: DeployStrategy) -> any DeploymentStrategy {
        switch name {
        case .blueGreen: BlueGreenStrategy()
        case .recreate: RecreateStrategy()
        case .rolling: RollingStrategy()
        case .canary: CanaryStrategy()
        }
    }
}

extension Engine {
    /// What a strategy starts from: the release serving `env` now, and how many instances the new one
    /// needs (`slipway scale`'s count, else the configuration's).
    /// The first line of a (multi-line) failure, for a transition's one-line detail.
    nonisolated static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? text
    }

    /// The lowest slot none of `taken` uses.
    nonisolated static func freeSlot(_ taken: [InstanceRecord]) -> Int {
        var slot = 0
        while taken.contains(where: { $0.slot == slot }) { slot += 1 }
        return slot
    }

    func startingPoint(_ env: EnvironmentConfig) throws(SlipwayError) -> (previous: String?, count: Int) {
        let record = try store.environment(env.name)
        return (record.currentRelease, record.instances ?? env.process.instances)
    }
}
