import Foundation
import SlipwayCore
import SlipwayEngine

extension Dashboard {
    /// The trend: 12 points a week apart, each over the 30 days before it.
    static let trendPoints = 12, trendStep: TimeInterval = 7 * 86_400, trendWindow: TimeInterval = 30 * 86_400

    /// The DORA keys (and rework rate) of one environment: the last 90 days with their tiers, then the trend.
    public func dora(viewer: Viewer, environment: String?) async throws -> String {
        let now = Date()
        let (r, trend) = try engine.reports.reportWithTrend(environment: environment, since: .seconds(90 * 86400), points: Self.trendPoints,
                                                          step: Self.trendStep, window: Self.trendWindow, now: now)
        let keys: [(name: String, unit: String, metric: KeyPath<DORAReport, DORAReport.Metric>)] = [
            ("deployment frequency", "/day", \.deploymentFrequency), ("lead time for changes", "s", \.leadTime),
            ("change failure rate", "%", \.changeFailureRate), ("failed deployment recovery time", "s", \.recoveryTime),
            ("deployment rework rate", "%", \.reworkRate),
        ]
        let span = Self.trendStep * Double(Self.trendPoints)
        let charts = keys.map { key -> [String: Any] in
            let points = trend.map { (time: $0.to, value: $0[keyPath: key.metric].value) }
            let chart = SVGChart(title: "\(key.name) over time", unit: key.unit, series: [.init(name: key.name, points: points, style: "s-rps")],
                                 width: 480, height: 80, span: span)
            return ["name": key.name, "chart": chart.render(now: now)]
        }
        let weeks = trend.reversed().map { report -> [String: Any] in
            ["end": Self.time(report.to),
             "cells": keys.map { key -> [String: Any] in
                 let m = report[keyPath: key.metric]
                 return ["value": Self.value(m), "tier": m.tier?.rawValue ?? "—"]
             }]
        }
        let names = await engine.config.environmentNames
        let c: [String: Any] = [
            "scope": r.environment, "since": Self.time(r.from),
            "envNav": names.count > 1 ? ["list": names.map { ["name": $0, "current": $0 == r.environment] as [String: Any] }] as [String: Any] : false,
            "metrics": keys.map { key -> [String: Any] in
                let m = r[keyPath: key.metric]
                return ["name": key.name, "value": Self.value(m), "tier": m.tier?.rawValue ?? "—", "detail": m.detail]
            },
            "charts": charts, "weeks": weeks, "columns": keys.map { ["name": $0.name] },
        ]
        return page("dora", title: "DORA", c, viewer: viewer)
    }

    /// A metric's value as people read it: a percentage, a duration or a rate.
    static func value(_ m: DORAReport.Metric) -> String {
        guard let v = m.value else { return "not measured" }
        switch m.unit {
        case "ratio": return String(format: "%.1f%%", v * 100)
        case "seconds": return duration(v)
        case "per_day": return String(format: "%.2f per day", v) + (m.bucket.map { " (\($0))" } ?? "")
        default: return String(format: "%.2f ", v) + m.unit
        }
    }
}
