import Foundation

/// One-time sign-in links (`slipway dashboard`): a random code that becomes a session once, within a minute.
public actor DashboardLinks {
    var codes: [String: (session: DashboardSession, expires: Date)] = [:]
    public static let lifetime: TimeInterval = 60

    public init() {}

    public func make(for session: DashboardSession, now: Date = Date()) -> String {
        codes = codes.filter { $0.value.expires > now }
        let code = DashboardSession.randomNonce() + DashboardSession.randomNonce()
        codes[code] = (session, now.addingTimeInterval(Self.lifetime))
        return code
    }

    /// The session for a code, once; nil when unknown, used or expired.
    public func redeem(_ code: String, now: Date = Date()) -> DashboardSession? {
        guard let entry = codes.removeValue(forKey: code), entry.expires > now else { return nil }
        return entry.session
    }
}
