import Foundation

/// What a token may do. `viewer` reads; `deployer` also deploys, rolls back, scales and runs operations;
/// `approver` also approves; `admin` may do everything, manages tokens and overrides windows.
/// The kernel-identified user on the admin socket (no token) is `admin`.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, deployer, approver, admin

    /// Whether holding `self` grants `needed`.
    public func grants(_ needed: Role) -> Bool {
        switch self {
        case .admin: true
        case .deployer: needed == .viewer || needed == .deployer
        case .approver: needed == .viewer || needed == .approver
        case .viewer: needed == .viewer
        }
    }

    public static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}
