import DemoApp

enum DemoAppRunner {
    static func run(_ arguments: [String]) async throws {
        try await DemoApp.main(arguments: arguments)
    }
}
