"""nbgrader's configuration for the book's assignments.

Run nbgrader from a course folder that holds this file and a copy of ``source/``:
``make assignments`` builds one in ``_build/assignments`` (see book/how_to_use.md).
"""

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "rnnbook"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# every notebook uses the kernel named python3 (the book's kernel under `make lab`)
c.Execute.timeout = 300
c.Autograde.create_student = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
