diesel::table! { posts (id) { id -> Integer, code -> Text, } }
