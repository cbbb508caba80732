from rest_framework.authentication import BaseAuthentication


class ServiceTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None
