"""The templates a new clinic starts with, in English and Hindi.

SMS and push texts carry the minimum (no diagnosis, no medicine names): the full text stays in
the inbox behind login. Variables: `patient_name`, `practitioner_name`, `clinic`, `inbox_url`,
and the send's `data` fields (`when` for appointments, `medicine` and `dose` for medication,
`note` for updates, `message` for health alerts).
"""

from __future__ import annotations

from app.vocabulary import Channel, NotificationType

T = NotificationType
C = Channel

# (type, channel, locale) -> (subject, body)
DEFAULT_TEMPLATES: dict[tuple[NotificationType, Channel, str], tuple[str, str]] = {
    # Appointment reminder
    (T.APPOINTMENT_REMINDER, C.IN_APP, "en"): (
        "Appointment reminder",
        "Dear {{ patient_name }}, this is a reminder of your appointment"
        "{% if therapy is defined %} for {{ therapy }}{% endif %} with {{ practitioner_name }}"
        " on {{ when }}. Please arrive 15 minutes early and avoid a heavy meal beforehand.",
    ),
    (T.APPOINTMENT_REMINDER, C.EMAIL, "en"): (
        "Your appointment on {{ when }}",
        "Dear {{ patient_name }},\n\nThis is a reminder of your appointment"
        "{% if therapy is defined %} for {{ therapy }}{% endif %} with {{ practitioner_name }}"
        " on {{ when }}.\n\nPlease arrive 15 minutes early and avoid a heavy meal beforehand.\n\n"
        "{{ clinic }}",
    ),
    (T.APPOINTMENT_REMINDER, C.SMS, "en"): (
        "Appointment reminder",
        "{{ clinic }}: reminder of your appointment on {{ when }}. Details: {{ inbox_url }}",
    ),
    (T.APPOINTMENT_REMINDER, C.PUSH, "en"): (
        "Appointment reminder",
        "Your appointment is on {{ when }}.",
    ),
    (T.APPOINTMENT_REMINDER, C.IN_APP, "hi"): (
        "अपॉइंटमेंट अनुस्मारक",
        "प्रिय {{ patient_name }}, {{ when }} को {{ practitioner_name }} के साथ आपका अपॉइंटमेंट है।"
        " कृपया 15 मिनट पहले पहुँचें और पहले भारी भोजन न करें।",
    ),
    (T.APPOINTMENT_REMINDER, C.EMAIL, "hi"): (
        "{{ when }} को आपका अपॉइंटमेंट",
        "प्रिय {{ patient_name }},\n\n{{ when }} को {{ practitioner_name }} के साथ आपका अपॉइंटमेंट है।"
        "\n\nकृपया 15 मिनट पहले पहुँचें।\n\n{{ clinic }}",
    ),
    (T.APPOINTMENT_REMINDER, C.SMS, "hi"): (
        "अपॉइंटमेंट अनुस्मारक",
        "{{ clinic }}: {{ when }} को आपका अपॉइंटमेंट है। विवरण: {{ inbox_url }}",
    ),
    (T.APPOINTMENT_REMINDER, C.PUSH, "hi"): (
        "अपॉइंटमेंट अनुस्मारक",
        "{{ when }} को आपका अपॉइंटमेंट है।",
    ),
    # Appointment confirmation
    (T.APPOINTMENT_CONFIRMATION, C.IN_APP, "en"): (
        "Appointment confirmed",
        "Dear {{ patient_name }}, your appointment with {{ practitioner_name }} on {{ when }}"
        " is confirmed.",
    ),
    (T.APPOINTMENT_CONFIRMATION, C.EMAIL, "en"): (
        "Appointment confirmed for {{ when }}",
        "Dear {{ patient_name }},\n\nYour appointment with {{ practitioner_name }} on {{ when }}"
        " is confirmed.\n\n{{ clinic }}",
    ),
    (T.APPOINTMENT_CONFIRMATION, C.SMS, "en"): (
        "Appointment confirmed",
        "{{ clinic }}: your appointment on {{ when }} is confirmed.",
    ),
    (T.APPOINTMENT_CONFIRMATION, C.PUSH, "en"): (
        "Appointment confirmed",
        "Your appointment on {{ when }} is confirmed.",
    ),
    (T.APPOINTMENT_CONFIRMATION, C.IN_APP, "hi"): (
        "अपॉइंटमेंट की पुष्टि",
        "प्रिय {{ patient_name }}, {{ when }} को {{ practitioner_name }} के साथ आपके अपॉइंटमेंट"
        " की पुष्टि हो गई है।",
    ),
    (T.APPOINTMENT_CONFIRMATION, C.SMS, "hi"): (
        "अपॉइंटमेंट की पुष्टि",
        "{{ clinic }}: {{ when }} के आपके अपॉइंटमेंट की पुष्टि हो गई है।",
    ),
    # Appointment cancellation
    (T.APPOINTMENT_CANCELLATION, C.IN_APP, "en"): (
        "Appointment cancelled",
        "Dear {{ patient_name }}, your appointment with {{ practitioner_name }} on {{ when }} has been"
        " cancelled. Write to us or call the clinic to book another time.",
    ),
    (T.APPOINTMENT_CANCELLATION, C.EMAIL, "en"): (
        "Appointment on {{ when }} cancelled",
        "Dear {{ patient_name }},\n\nYour appointment with {{ practitioner_name }} on {{ when }} has been"
        " cancelled. Write to us or call the clinic to book another time.\n\n{{ clinic }}",
    ),
    (T.APPOINTMENT_CANCELLATION, C.SMS, "en"): (
        "Appointment cancelled",
        "{{ clinic }}: your appointment on {{ when }} is cancelled.",
    ),
    (T.APPOINTMENT_CANCELLATION, C.PUSH, "en"): (
        "Appointment cancelled",
        "Your appointment on {{ when }} is cancelled.",
    ),
    (T.APPOINTMENT_CANCELLATION, C.IN_APP, "hi"): (
        "अपॉइंटमेंट रद्द",
        "प्रिय {{ patient_name }}, {{ when }} को {{ practitioner_name }} के साथ आपका अपॉइंटमेंट रद्द कर दिया"
        " गया है। नया समय लेने के लिए क्लिनिक से संपर्क करें।",
    ),
    (T.APPOINTMENT_CANCELLATION, C.EMAIL, "hi"): (
        "{{ when }} का अपॉइंटमेंट रद्द",
        "प्रिय {{ patient_name }},\n\n{{ when }} को {{ practitioner_name }} के साथ आपका अपॉइंटमेंट रद्द कर"
        " दिया गया है। नया समय लेने के लिए क्लिनिक से संपर्क करें।\n\n{{ clinic }}",
    ),
    (T.APPOINTMENT_CANCELLATION, C.SMS, "hi"): (
        "अपॉइंटमेंट रद्द",
        "{{ clinic }}: {{ when }} का आपका अपॉइंटमेंट रद्द कर दिया गया है।",
    ),
    (T.APPOINTMENT_CANCELLATION, C.PUSH, "hi"): (
        "अपॉइंटमेंट रद्द",
        "{{ when }} का आपका अपॉइंटमेंट रद्द कर दिया गया है।",
    ),
    # Treatment update
    (T.TREATMENT_UPDATE, C.IN_APP, "en"): (
        "{% if percent is defined %}Treatment Progress Update - {{ percent }}% Complete"
        "{% else %}Treatment update{% endif %}",
        "Dear {{ patient_name }}, {{ practitioner_name }} has an update on your treatment"
        "{% if therapy is defined %} ({{ therapy }}){% endif %}."
        "{% if phase is defined %} {{ phase }}{% if percent is defined %}: {{ percent }}% complete{% endif %}."
        "{% endif %}{% if next_milestone is defined %} Next: {{ next_milestone }}.{% endif %}"
        "{% if note is defined %} {{ note }}{% endif %}",
    ),
    (T.TREATMENT_UPDATE, C.EMAIL, "en"): (
        "{% if percent is defined %}Treatment Progress Update - {{ percent }}% Complete"
        "{% else %}An update on your treatment{% endif %}",
        "Dear {{ patient_name }},\n\n{{ practitioner_name }} has an update on your treatment"
        "{% if therapy is defined %} ({{ therapy }}){% endif %}."
        "{% if phase is defined %}\n\n{{ phase }}{% if percent is defined %}: {{ percent }}% complete{% endif %}."
        "{% endif %}{% if next_milestone is defined %}\nNext: {{ next_milestone }}.{% endif %}"
        "{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}",
    ),
    (T.TREATMENT_UPDATE, C.SMS, "en"): (
        "Treatment update",
        "{{ clinic }}: {{ practitioner_name }} posted an update on your treatment."
        " Read it: {{ inbox_url }}",
    ),
    (T.TREATMENT_UPDATE, C.PUSH, "en"): (
        "Treatment update",
        "{{ practitioner_name }} posted an update on your treatment.",
    ),
    (T.TREATMENT_UPDATE, C.IN_APP, "hi"): (
        "{% if percent is defined %}उपचार प्रगति अपडेट - {{ percent }}% पूर्ण{% else %}उपचार अपडेट{% endif %}",
        "प्रिय {{ patient_name }}, {{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है"
        "{% if therapy is defined %} ({{ therapy }}){% endif %}।"
        "{% if phase is defined %} {{ phase }}{% if percent is defined %}: {{ percent }}% पूर्ण{% endif %}।"
        "{% endif %}{% if next_milestone is defined %} आगे: {{ next_milestone }}।{% endif %}"
        "{% if note is defined %} {{ note }}{% endif %}",
    ),
    (T.TREATMENT_UPDATE, C.SMS, "hi"): (
        "उपचार अपडेट",
        "{{ clinic }}: आपके उपचार पर नया अपडेट है। पढ़ें: {{ inbox_url }}",
    ),
    # Medication reminder
    (T.MEDICATION_REMINDER, C.IN_APP, "en"): (
        "Medication reminder",
        "Dear {{ patient_name }}, it is time for {{ medicine }}"
        "{% if dose is defined %} ({{ dose }}){% endif %}.",
    ),
    (T.MEDICATION_REMINDER, C.EMAIL, "en"): (
        "Medication reminder",
        "Dear {{ patient_name }},\n\nIt is time for {{ medicine }}"
        "{% if dose is defined %} ({{ dose }}){% endif %}.\n\n{{ clinic }}",
    ),
    (T.MEDICATION_REMINDER, C.SMS, "en"): (
        "Medication reminder",
        "{{ clinic }}: it is time for your medicine. Details: {{ inbox_url }}",
    ),
    (T.MEDICATION_REMINDER, C.PUSH, "en"): (
        "Medication reminder",
        "It is time for your medicine.",
    ),
    (T.MEDICATION_REMINDER, C.IN_APP, "hi"): (
        "दवा अनुस्मारक",
        "प्रिय {{ patient_name }}, {{ medicine }} लेने का समय हो गया है"
        "{% if dose is defined %} ({{ dose }}){% endif %}।",
    ),
    (T.MEDICATION_REMINDER, C.SMS, "hi"): (
        "दवा अनुस्मारक",
        "{{ clinic }}: आपकी दवा का समय हो गया है। विवरण: {{ inbox_url }}",
    ),
    (T.MEDICATION_REMINDER, C.PUSH, "hi"): (
        "दवा अनुस्मारक",
        "आपकी दवा का समय हो गया है।",
    ),
    # Health alert
    (T.HEALTH_ALERT, C.IN_APP, "en"): (
        "Health alert",
        "Dear {{ patient_name }}, {{ message }}",
    ),
    (T.HEALTH_ALERT, C.EMAIL, "en"): (
        "Important: a health alert from {{ clinic }}",
        "Dear {{ patient_name }},\n\n{{ message }}\n\n{{ practitioner_name }}, {{ clinic }}",
    ),
    (T.HEALTH_ALERT, C.SMS, "en"): (
        "Health alert",
        "{{ clinic }}: an important health alert for you. Read it now: {{ inbox_url }}",
    ),
    (T.HEALTH_ALERT, C.PUSH, "en"): (
        "Health alert",
        "An important health alert from {{ clinic }}.",
    ),
    (T.HEALTH_ALERT, C.IN_APP, "hi"): (
        "स्वास्थ्य चेतावनी",
        "प्रिय {{ patient_name }}, {{ message }}",
    ),
    (T.HEALTH_ALERT, C.SMS, "hi"): (
        "स्वास्थ्य चेतावनी",
        "{{ clinic }}: आपके लिए एक महत्वपूर्ण स्वास्थ्य चेतावनी। अभी पढ़ें: {{ inbox_url }}",
    ),
    # Progress update
    (T.PROGRESS_UPDATE, C.IN_APP, "en"): (
        "Progress update",
        "Dear {{ patient_name }}, {{ practitioner_name }} has recorded your progress."
        "{% if note is defined %} {{ note }}{% endif %}",
    ),
    (T.PROGRESS_UPDATE, C.EMAIL, "en"): (
        "Your progress",
        "Dear {{ patient_name }},\n\n{{ practitioner_name }} has recorded your progress."
        "{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}",
    ),
    (T.PROGRESS_UPDATE, C.SMS, "en"): (
        "Progress update",
        "{{ clinic }}: a progress update is waiting for you: {{ inbox_url }}",
    ),
    (T.PROGRESS_UPDATE, C.PUSH, "en"): (
        "Progress update",
        "A progress update is waiting for you.",
    ),
    (T.PROGRESS_UPDATE, C.IN_APP, "hi"): (
        "प्रगति अपडेट",
        "प्रिय {{ patient_name }}, {{ practitioner_name }} ने आपकी प्रगति दर्ज की है।"
        "{% if note is defined %} {{ note }}{% endif %}",
    ),
    # Hindi for the rest, so every type reaches a Hindi-speaking patient in Hindi on every channel.
    (T.APPOINTMENT_CONFIRMATION, C.EMAIL, "hi"): (
        "{{ when }} के अपॉइंटमेंट की पुष्टि",
        "प्रिय {{ patient_name }},\n\n{{ when }} को {{ practitioner_name }} के साथ आपके अपॉइंटमेंट की पुष्टि हो"
        " गई है।\n\n{{ clinic }}",
    ),
    (T.APPOINTMENT_CONFIRMATION, C.PUSH, "hi"): (
        "अपॉइंटमेंट की पुष्टि",
        "{{ when }} के आपके अपॉइंटमेंट की पुष्टि हो गई है।",
    ),
    (T.TREATMENT_UPDATE, C.EMAIL, "hi"): (
        "{% if percent is defined %}उपचार प्रगति अपडेट - {{ percent }}% पूर्ण{% else %}आपके उपचार पर अपडेट{% endif %}",
        "प्रिय {{ patient_name }},\n\n{{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है"
        "{% if therapy is defined %} ({{ therapy }}){% endif %}।"
        "{% if phase is defined %}\n\n{{ phase }}{% if percent is defined %}: {{ percent }}% पूर्ण{% endif %}।"
        "{% endif %}{% if next_milestone is defined %}\nआगे: {{ next_milestone }}।{% endif %}"
        "{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}",
    ),
    (T.TREATMENT_UPDATE, C.PUSH, "hi"): (
        "उपचार अपडेट",
        "{{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है।",
    ),
    (T.MEDICATION_REMINDER, C.EMAIL, "hi"): (
        "दवा अनुस्मारक",
        "प्रिय {{ patient_name }},\n\n{{ medicine }} लेने का समय हो गया है{% if dose is defined %} ({{ dose }})"
        "{% endif %}।\n\n{{ clinic }}",
    ),
    (T.HEALTH_ALERT, C.EMAIL, "hi"): (
        "ज़रूरी: {{ clinic }} से स्वास्थ्य चेतावनी",
        "प्रिय {{ patient_name }},\n\n{{ message }}\n\n{{ practitioner_name }}, {{ clinic }}",
    ),
    (T.HEALTH_ALERT, C.PUSH, "hi"): (
        "स्वास्थ्य चेतावनी",
        "{{ clinic }} से एक ज़रूरी स्वास्थ्य चेतावनी।",
    ),
    (T.PROGRESS_UPDATE, C.SMS, "hi"): (
        "प्रगति अपडेट",
        "{{ clinic }}: आपकी प्रगति का अपडेट आपका इंतज़ार कर रहा है: {{ inbox_url }}",
    ),
    (T.PROGRESS_UPDATE, C.EMAIL, "hi"): (
        "आपकी प्रगति",
        "प्रिय {{ patient_name }},\n\n{{ practitioner_name }} ने आपकी प्रगति दर्ज की है।"
        "{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}",
    ),
    (T.PROGRESS_UPDATE, C.PUSH, "hi"): (
        "प्रगति अपडेट",
        "आपकी प्रगति का अपडेट आपका इंतज़ार कर रहा है।",
    ),
}
