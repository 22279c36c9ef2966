pub struct FakeRuntime;
