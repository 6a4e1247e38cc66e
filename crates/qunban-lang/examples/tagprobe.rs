fn main() {
    let j = jieba_rs::Jieba::new();
    for line in std::io::stdin().lines() {
        let line = line.unwrap();
        let t = std::time::Instant::now();
        let tags = j.tag(&line, true);
        let el = t.elapsed();
        let s: Vec<String> = tags.iter().map(|t| format!("{}/{}", t.word, t.tag)).collect();
        println!("{:?} {}", el, s.join(" "));
    }
}
