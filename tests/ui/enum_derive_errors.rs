#[derive(flaskdb::Enum)]
enum Shape {
    Circle(f64),
    #[model(rename = "sq")]
    Square,
    #[model(rename = "sq")]
    Other,
    #[model(colour = "red")]
    Last,
}

#[derive(flaskdb::Enum)]
struct NotAnEnum {
    a: i32,
}

fn main() {}
