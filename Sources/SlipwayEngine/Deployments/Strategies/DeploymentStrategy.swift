import Foundation
import SlipwayCore
import SlipwayStore

/// How a release replaces the serving one. Each strategy is its own type, written against `DeploymentSteps`
/// alone: the engine runs it for real, the unit tests over a fake. A new strategy is a new type here and a
/// case in `Strategies.named`.
protocol DeploymentStrategy: Sendable {
    func run<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError)
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

    /// The first line of a (multi-line) failure, for a transition's one-line detail.
    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? text
    }

    /// The lowest slot none of `taken` uses.
    static func freeSlot(_ taken: [InstanceRecord]) -> Int {
        var slot = 0
        while taken.contains(where: { $0.slot == slot }) { slot += 1 }
        return slot
    }

    /// `(took 1.23s)`: how long a deployment took, for its last line.
    static func took(since began: ContinuousClock.Instant) -> String {
        "took \(String(format: "%.2f", (ContinuousClock.now - began).seconds))s"
    }
}
