import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens with roles (viewer, deployer, approver, admin): create (shown once), list, revoke. Admin only.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for USER with one or more roles; it is printed once and stored only as a hash.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Who the token acts as (recorded as the actor)") var user: String
        @Option(help: "viewer | deployer | approver | admin (repeatable)") var role: [Role]
        @Option(help: "Expires after this long (90d, 12h); default: never") var expires: String?
        @Flag(help: "Print {\"token\": …, \"info\": …}") var json = false

        func validate() throws {
            if role.isEmpty { throw ValidationError("--role: give at least one of viewer, deployer, approver, admin") }
            if let expires, DurationParsing.parse(expires).map({ $0 > .zero }) != true {
                throw ValidationError("--expires: expected a duration like 90d, 12h or 30m, got '\(expires)'")
            }
        }

        func run() async throws {
            let client = try global.client()
            let created: TokenCreated = try await client.post("/v1/tokens", TokenCreateRequest(user: user, roles: role, expires: expires))
            if json { Output.json(created); return }
            print(created.token)
            FileHandle.standardError.write(Data("token \(created.info.id) for \(created.info.user) (\(created.info.roles.map(\.rawValue).joined(separator: ", "))); it is not shown again\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tokens (never their values): id, user, roles, created, expires, revoked.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let client = try global.client()
            let list: [TokenInfo] = try await client.get("/v1/tokens")
            if json { Output.json(list); return }
            Output.table(["ID", "USER", "ROLES", "CREATED", "BY", "EXPIRES", "REVOKED"], list.map {
                [$0.id, $0.user, $0.roles.map(\.rawValue).joined(separator: ","), Output.time($0.createdAt), $0.createdBy,
                 $0.expiresAt.map { Output.time($0) } ?? "never", $0.revokedAt.map { Output.time($0) } ?? "-"]
            })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it is refused from now on.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's id (slipway token list)") var id: String

        func run() async throws {
            let client = try global.client()
            let info: TokenInfo = try await client.post("/v1/tokens/revoke", TokenRevokeRequest(id: id))
            print("revoked \(info.id) of \(info.user)")
        }
    }
}

extension Role: ExpressibleByArgument {}
