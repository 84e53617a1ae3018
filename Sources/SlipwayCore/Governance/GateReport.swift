import Foundation

/// `slipway gates VERSION`: every policy check for an operation now — pass or block, why, and when it
/// would pass (if that is known).
public struct GateReport: Codable, Sendable, Equatable {
    public var environment: String
    public var version: String
    public var operation: String
    public var pass: Bool
    public var gates: [GateResult]
    public init(environment: String, version: String, operation: String, pass: Bool, gates: [GateResult]) {
        self.environment = environment
        self.version = version
        self.operation = operation
        self.pass = pass
        self.gates = gates
    }
}

public struct GateResult: Codable, Sendable, Equatable {
    public var rule: String
    public var pass: Bool
    public var reason: String?
    public var passesAt: Date?
    public init(rule: String, pass: Bool, reason: String?, passesAt: Date?) {
        self.rule = rule
        self.pass = pass
        self.reason = reason
        self.passesAt = passesAt
    }
    enum CodingKeys: String, CodingKey { case rule, pass, reason, passesAt = "passes_at" }
}
