diesel::table! { people (id) { id -> Integer, } }
diesel::table! { group (id) { id -> Integer, name -> Text, } }
