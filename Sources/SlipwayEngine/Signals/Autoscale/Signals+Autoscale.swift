import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Signals {
    /// From the alert loop, with the sample it just took: judges `autoscale.out` / `autoscale.in` and, when
    /// the decider says so, hands a scale to `AutoscaleService` (it runs through `scale`: health-gated, audited).
    /// Never while a deployment (or anything else) holds the environment's lease, never two at once.
    func autoscaleStep(_ env: EnvironmentConfig, sample: MetricSample, now: Date) {
        guard let settings = env.autoscale else { autoscalers[env.name] = nil; return }
        guard !autoscaling.contains(env.name), let record = try? store.environment(env.name), record.currentRelease != nil,
              (try? store.locks())?.contains(where: { $0.environment == env.name }) == false else { return }
        var decider = autoscalers[env.name].flatMap { $0.settings == settings ? $0 : nil } ?? AutoscaleDecider(settings: settings)
        func holds(_ direction: AutoscaleSettings.Direction?, _ key: String) -> Bool? {
            guard let direction else { return nil }
            var evaluator = alertEvaluators[key] ?? RuleEvaluator(rules: [direction.rule], minRequests: Self.alertMinRequests)
            let verdict = evaluator.observe(sample, baseline: nil, at: now).first
            alertEvaluators[key] = evaluator
            switch verdict {
            case .fail: return true
            case .pass: return false
            default: return nil
            }
        }
        let instances = record.instances ?? env.process.instances
        let decision = decider.observe(out: holds(settings.out, "\(env.name)/autoscale:out"), in: holds(settings.in, "\(env.name)/autoscale:in"),
                                       instances: instances, at: now)
        autoscalers[env.name] = decider
        guard case .scale(let target, let why) = decision else { return }
        logger.info("autoscale", metadata: ["autoscale.env": "\(env.name)", "autoscale.from": "\(instances)", "autoscale.to": "\(target)", "autoscale.why": "\(why)"])
        if autoscaleRuns.submit(AutoscaleJob(environment: env.name, instances: target)) { autoscaling.insert(env.name) }
    }
}
