diesel::table! { tags (id) { id -> Integer, } }
