import Foundation
import Testing
@testable import SlipwayCore

/// The analysis rule language: one parser with located errors, and a clock-free evaluator.
struct RuleTests {
    @Test(arguments: [
        ("error_rate > baseline + 1%", Rule.Metric.errorRate, Rule.Comparison.greater, Rule.Threshold.baselinePlus(0.01), nil as Duration?, nil as Duration?),
        ("p99_latency > 1.5 * baseline", .latency(99), .greater, .baselineTimes(1.5), nil, nil),
        ("p95_latency >= baseline * 2", .latency(95), .greaterOrEqual, .baselineTimes(2), nil, nil),
        ("error_rate > 5% for 10s", .errorRate, .greater, .absolute(0.05), .seconds(10), nil),
        ("p99.9_latency > 500ms for 5m", .latency(99.9), .greater, .absolute(0.5), .seconds(300), nil),
        ("memory > 90%", .memory, .greater, .absolute(0.9), nil, nil),
        ("memory > 512MiB", .memoryBytes, .greater, .absolute(512 * 1_048_576), nil, nil),
        ("health_failures > 3 in 10m", .healthFailures, .greater, .absolute(3), nil, .seconds(600)),
        ("restarts > 0", .restarts, .greater, .absolute(0), nil, nil),
        ("rps < 1", .rps, .less, .absolute(1), nil, nil),
        ("cpu <= 150%", .cpu, .lessOrEqual, .absolute(1.5), nil, nil),
        ("value > 10", .value, .greater, .absolute(10), nil, nil),
        ("  error_rate>baseline-0.5%  ", .errorRate, .greater, .baselinePlus(-0.005), nil, nil),
    ])
    func rulesParse(_ text: String, _ metric: Rule.Metric, _ comparison: Rule.Comparison, _ threshold: Rule.Threshold,
                    _ sustained: Duration?, _ window: Duration?) throws {
        let rule = try RuleParser.parse(text)
        #expect(rule.metric == metric && rule.comparison == comparison && rule.threshold == threshold)
        #expect(rule.sustained == sustained && rule.window == window)
        #expect(rule.text == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: [
        ("error_ratio > 1%", 1, "unknown metric 'error_ratio'"),
        ("error_rate = 1%", 12, "expected a comparison"),
        ("error_rate > 5", 14, "error_rate: expected a share like 1% or 0.01, got '5'"),
        ("p99_latency > 500", 15, "expected a duration like 500ms or 2s"),
        ("error_rate > 5% for soon", 21, "'for' takes a duration"),
        ("error_rate > 5% in 10m", 17, "'in D' counts events"),
        ("restarts > baseline", 1, "restarts has no baseline"),
        ("error_rate > 5% or more", 17, "expected the end of the rule"),
        ("", 1, "expected a metric"),
    ])
    func mistakesSayWhereAndWhat(_ text: String, _ column: Int, _ message: String) {
        do {
            _ = try RuleParser.parse(text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func theConfigNamesTheFileLineAndRuleOfAMistake() throws {
        let yaml = """
            app: shop
            process: { command: x }
            analysis:
              interval: 2s
              min_requests: 50
              rules:
                - "error_rate > baseline + 1%"
                - "p99_latency > fast"
            """
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("a bad rule was accepted")
        } catch {
            let text = error.problems.map(\.description).joined(separator: "\n")
            #expect(text.contains("slipway.yml:8:") && text.contains("analysis.rules[1]: 'p99_latency > fast', column 15"), "\(text)")
        }
        let good = try ConfigLoader.parse(yaml: yaml.replacingOccurrences(of: "fast", with: "2s"), file: "slipway.yml", directory: "/tmp")
        let analysis = try #require(good.environments["production"]?.analysis)
        #expect(analysis.interval == .seconds(2) && analysis.minRequests == 50 && analysis.rules.count == 2)
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }

    @Test func tooFewRequestsHoldInsteadOfPassingOrFailing() throws {
        var e = RuleEvaluator(rules: [try RuleParser.parse("error_rate > baseline + 1%")], minRequests: 200)
        let bad = MetricSample(requests: 150, errors: 75)
        #expect(e.observe(bad, baseline: MetricSample(requests: 5000, errors: 10), at: Self.at(0)) == [.hold("150 of 200 requests")])
        // Enough on both sides: 10% against 0.2% + 1 point fails, with the evidence.
        let verdicts = e.observe(MetricSample(requests: 400, errors: 40), baseline: MetricSample(requests: 5000, errors: 10), at: Self.at(1))
        guard case .fail(let ev) = verdicts[0] else { Issue.record("\(verdicts)"); return }
        #expect(ev.observed == 0.1 && abs(ev.threshold - 0.012) < 1e-9 && ev.baseline == 0.002 && ev.requests == 400)
        // No baseline with enough requests: hold.
        #expect(e.observe(MetricSample(requests: 400, errors: 40), baseline: MetricSample(requests: 20, errors: 0), at: Self.at(2))
            == [.hold("no baseline with 200 requests")])
    }

    @Test func forDFiresOnlyAfterTheConditionHeldThatLongWithoutABreak() throws {
        var e = RuleEvaluator(rules: [try RuleParser.parse("error_rate > 5% for 10s")], minRequests: 10)
        let failing = MetricSample(requests: 100, errors: 20), fine = MetricSample(requests: 100, errors: 1)
        #expect(e.observe(failing, baseline: nil, at: Self.at(0)) == [.hold("true for 0s of 10s")])
        #expect(e.observe(failing, baseline: nil, at: Self.at(6)) == [.hold("true for 6s of 10s")])
        guard case .pass = e.observe(fine, baseline: nil, at: Self.at(8))[0] else { Issue.record("a good interval did not pass"); return }
        // The break resets the clock: 10 s more are needed.
        #expect(e.observe(failing, baseline: nil, at: Self.at(9)) == [.hold("true for 0s of 10s")])
        guard case .hold = e.observe(failing, baseline: nil, at: Self.at(18))[0] else { Issue.record("fired early"); return }
        guard case .fail(let ev) = e.observe(failing, baseline: nil, at: Self.at(19))[0] else { Issue.record("did not fire"); return }
        #expect(ev.heldFor == .seconds(10))
    }

    @Test func countersCountTheirIncreaseInTheWindowOrSinceTheStart() throws {
        var e = RuleEvaluator(rules: [try RuleParser.parse("health_failures > 3 in 10m"), try RuleParser.parse("restarts > 0")], minRequests: 1)
        func sample(_ failures: Int, _ restarts: Int = 2) -> MetricSample { MetricSample(restarts: restarts, healthFailures: failures) }
        // Counters start wherever the release's were: only the increase counts.
        guard case .pass = e.observe(sample(40), baseline: nil, at: Self.at(0))[1] else { Issue.record("restarts from before counted"); return }
        for (minute, failures) in [(1, 41), (2, 42), (5, 43)] {
            guard case .pass = e.observe(sample(failures), baseline: nil, at: Self.at(Double(minute) * 60))[0] else { Issue.record("minute \(minute)"); return }
        }
        guard case .fail(let ev) = e.observe(sample(44), baseline: nil, at: Self.at(6 * 60))[0] else { Issue.record("4 failures in 6 minutes"); return }
        #expect(ev.observed == 4)
        // Twelve minutes on, the failures of minutes 1 and 2 have left the window.
        guard case .pass(let later) = e.observe(sample(44), baseline: nil, at: Self.at(12 * 60))[0] else { Issue.record("old failures still counted"); return }
        #expect(later.observed == 2)
        guard case .fail = e.observe(sample(44, 3), baseline: nil, at: Self.at(13 * 60))[1] else { Issue.record("a restart went unnoticed"); return }
    }

    @Test func memoryIsAShareOfTheLimitAndUnmeasuredHolds() throws {
        var e = RuleEvaluator(rules: [try RuleParser.parse("memory > 90%"), try RuleParser.parse("p99_latency > 1.5 * baseline")], minRequests: 10)
        let v = e.observe(MetricSample(requests: 50, latency: [99: 0.3], memoryBytes: 950, memoryLimit: 1000), baseline: MetricSample(requests: 500, latency: [99: 0.1]),
                          at: Self.at(0))
        guard case .fail(let mem) = v[0], case .fail(let lat) = v[1] else { Issue.record("\(v)"); return }
        #expect(mem.observed == 0.95 && abs(lat.threshold - 0.15) < 1e-9)
        #expect(e.observe(MetricSample(requests: 50, memoryBytes: 950), baseline: nil, at: Self.at(1))[0] == .hold("memory is not measured"))
    }
}
